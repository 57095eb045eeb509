#pragma once
// `arunner process`: reads a worker stream and writes what a local run would have left: the
// events in job_events/, the artifacts zip unpacked into the artifact dir, the stdout echoed,
// and the callbacks called (docs/stream.md).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "arunner/runner.hpp"
#include "arunner/streaming.hpp"
#include "stream/zip_reader.hpp"

namespace arunner::stream {

using ProcessorOptions = arunner::ProcessorOptions;  // include/arunner/streaming.hpp

/// What a processed stream said; arunner::process turns an `error` status into an Error.
struct ProcessResult {
    JobStatus status = JobStatus::unstarted;  ///< the last status line (`error` on a bad stream)
    std::filesystem::path artifact_dir;
    std::string error;  ///< why, when status is `error` (e.g. "the worker stream was cut")
};

/// Processes one worker stream from `in_fd` to the end (or to the first error).
ProcessResult run_processor(int in_fd, const ProcessorOptions& options);

namespace detail {

/// Parses one JSON text into `out` exactly as nlohmann's parser (ordered_json) would, only
/// faster, or declines (false, `out` unspecified) — always for text nlohmann rejects, and for
/// some text it accepts (deep nesting, numbers strtod would round to 0 or infinity). The
/// processor falls back to nlohmann when this declines.
bool fast_parse(std::string_view text, nlohmann::ordered_json& out);

}  // namespace detail
}  // namespace arunner::stream
