#pragma once
// `arunner process`: reads a worker stream and writes what a local run would have left: the
// events in job_events/, the artifacts zip unpacked into the artifact dir, the stdout echoed,
// and the callbacks called (docs/stream.md).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "arunner/callbacks.hpp"
#include "arunner/stream_options.hpp"
#include "stream/zip_reader.hpp"

namespace arunner::stream {

using ProcessorOptions = arunner::ProcessorOptions;  // include/arunner/stream_options.hpp

/// What a processed stream said; arunner::process turns an `error` status into an Error.
struct ProcessResult {
    JobStatus status = JobStatus::unstarted;  ///< the last status line (`error` on a bad stream)
    std::filesystem::path artifact_dir;
    std::string error;     ///< why, when status is `error` (e.g. "the worker stream was cut")
    bool saw_eof = false;  ///< the stream ended with its eof line
    /// Bytes already read past the eof line (nothing may follow it: a caller that owns the
    /// stream's writer checks that nothing more comes, runner/container_worker_job.cpp).
    size_t bytes_after_eof = 0;
};

/// What an in-process caller (a worker-container job, runner/container_worker_job.hpp) adds to
/// a processor run. Every hook is called on the processing thread.
struct ProcessorHooks {
    /// Called with each event file's path once it is on disk, in the stream's order. Files are
    /// written in batches: at the latest when the stream goes quiet, at the zip and at the end.
    std::function<void(const std::filesystem::path& file)> on_event_written;
    /// Called whenever the stream has nothing to read (the echo and the event files are flushed
    /// first), then every `idle_interval_ms` while it stays quiet.
    std::function<void()> on_idle;
    int idle_interval_ms = 100;
    /// Asked when the stream ends without eof: true means the caller stopped the worker (cancel,
    /// timeout), and the end is not reported as a cut stream (no `error` status is made up).
    std::function<bool()> stopped;
};

/// Processes one worker stream from `in_fd` to the end (or to the first error).
ProcessResult run_processor(int in_fd, const ProcessorOptions& options,
                            const ProcessorHooks& hooks = {});

namespace detail {

/// Parses one JSON text into `out` exactly as nlohmann's parser (ordered_json) would, only
/// faster, or declines (false, `out` unspecified) — always for text nlohmann rejects, and for
/// some text it accepts (deep nesting, numbers strtod would round to 0 or infinity). The
/// processor falls back to nlohmann when this declines.
bool fast_parse(std::string_view text, nlohmann::ordered_json& out);

}  // namespace detail
}  // namespace arunner::stream
