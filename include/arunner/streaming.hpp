#pragma once
// A job split across machines as AWX/Receptor drive ansible-runner (docs/stream.md): a Transmitter
// packs it, a Worker runs it somewhere else, a Processor unpacks its events and artifacts on the
// controller. Each works on file descriptors the caller owns (a pipe, a socket, a file), and each
// is byte-compatible with ansible-runner's in both directions.
//
// Threads: every callback is called on the calling thread. Errors: nothing throws; each end
// returns a Result, as Runner::create does (the worker also reports a failure in its stream).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"
#include "arunner/runner.hpp"

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

/// Writes the job stream for `options` to `out_fd`: the kwargs line, the zipped private data
/// dir (spooled to a temp file, never held in memory; the dir is never written to), eof.
/// ansible-runner's Transmitter. With `only_kwargs`, no zip.
Status transmit(const RunOptions& options, int out_fd, bool only_kwargs = false);

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

/// Reads a job stream from `in_fd`, runs it, writes the worker stream to `out_fd` (status lines,
/// events, the artifacts zip, eof; every failure as an `error` status line and eof). Holds a lock
/// (flock) on the private data dir itself while it works (docs/worker-lock.md). SIGINT, SIGTERM
/// and SIGHUP while the job is received end it with an `error` line and eof, removing the temp
/// dir and the spooled zip. Returns the worker's exit code: the job's rc (0 when it has none), 0
/// after a malformed stream (as ansible-runner), 128+N after signal N; an Error (the
/// job_explanation of the `error` line it wrote) when the job could not be set up or the job
/// ended in an error (the arunner CLI exits 1). ansible-runner's Worker.
Result<int> work(int in_fd, int out_fd, const WorkerOptions& options);

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

/// Reads a worker stream from `in_fd` and writes job_events, the artifacts and the echo.
/// An Error when the stream is bad or ends in an `error` status, saying why (e.g. "the worker
/// stream was cut"); what was written until then stays. ansible-runner's Processor.
Result<ProcessResult> process(int in_fd, const ProcessorOptions& options);

}  // namespace arunner
