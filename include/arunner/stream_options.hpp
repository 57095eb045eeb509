#pragma once
// How a worker and a processor of a job stream run (arunner/streaming.hpp), and what a processed
// stream said.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "arunner/callbacks.hpp"
#include "arunner/job_status.hpp"

namespace arunner {

/// Caps on what one zip payload may unpack to (zip bombs, runaway senders).
struct ExtractLimits {
    /// Total unpacked bytes (file contents and symlink targets) allowed, declared or real.
    uint64_t max_unpacked_bytes = 10ull << 30;
    /// Total unpacked bytes allowed per byte of the zip file, for archives that unpack to more
    /// than `ratio_floor_bytes`: below that any ratio is fine, since real artifacts (a job's
    /// repetitive stdout) deflate far better than 100:1.
    double max_ratio = 100.0;
    uint64_t ratio_floor_bytes = 128ull << 20;
};

/// How a worker runs.
struct WorkerOptions {
    /// Where the job's private data dir goes; empty = a temp dir, removed at the end.
    std::optional<std::filesystem::path> private_data_dir;
    /// Empty private_data_dir before the job (once its lock is held) and remove it at the end.
    bool delete_dir = false;
    /// The longest line the job stream may hold (the kwargs line); longer is an error.
    size_t max_line_bytes = size_t{64} << 20;
    /// Write a keepalive line whenever this many seconds pass without output; 0 = never.
    double keepalive_seconds = 0;
    ExtractLimits limits;
    /// run() keywords given to the worker itself (ansible-runner's `Worker(**kwargs)`): the
    /// job's kwargs are laid over them, key by key, so the job's win.
    nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();
    /// Called on the worker's thread with each status the worker sends, `error` included.
    std::function<void(JobStatus status)> on_status;
};

/// How a processor runs.
struct ProcessorOptions {
    std::filesystem::path private_data_dir;             ///< required
    std::optional<std::string> ident;                   ///< artifacts go to PDD/artifacts/<ident>
    std::optional<std::filesystem::path> artifact_dir;  ///< ... or exactly here
    bool quiet = false;                                 ///< no echo of each event's stdout
    int console_fd = 1;                                 ///< where the echo goes
    /// event_handler (false: no job_events file), status_handler and artifacts_handler, as for a
    /// local run; cancel_callback and finished_callback are not used.
    RunCallbacks callbacks;
    ExtractLimits limits;
};

/// What a processed stream said.
struct ProcessResult {
    JobStatus status = JobStatus::unstarted;  ///< the last status line
    std::filesystem::path artifact_dir;
};

}  // namespace arunner
