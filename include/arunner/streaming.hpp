#pragma once
// A job split across machines as AWX/Receptor drive ansible-runner (docs/stream.md): a Transmitter
// packs it, a Worker runs it somewhere else, a Processor unpacks its events and artifacts on the
// controller. Each works on file descriptors the caller owns (a pipe, a socket, a file), and each
// is byte-compatible with ansible-runner's in both directions.
//
// Threads: every callback is called on the calling thread. Errors: nothing throws; each end
// returns a Result, as Runner::create does (the worker also reports a failure in its stream).

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"
#include "arunner/stream_options.hpp"

namespace arunner {

/// Writes the job stream for `options` to `out_fd`: the kwargs line, the zipped private data
/// dir (spooled to a temp file, never held in memory; the dir is never written to), eof.
/// ansible-runner's Transmitter. With `only_kwargs`, no zip.
Status transmit(const RunOptions& options, int out_fd, bool only_kwargs = false);

/// Reads a job stream from `in_fd`, runs it, writes the worker stream to `out_fd` (status lines,
/// events, the artifacts zip, eof; every failure as an `error` status line and eof). Holds a lock
/// (flock) on the private data dir itself while it works (docs/worker-lock.md). SIGINT, SIGTERM
/// and SIGHUP while the job is received end it with an `error` line and eof, removing the temp
/// dir and the spooled zip. Returns the worker's exit code: the job's rc (0 when it has none), 0
/// after a malformed stream (as ansible-runner), 128+N after signal N; an Error (the
/// job_explanation of the `error` line it wrote) when the job could not be set up or the job
/// ended in an error (the arunner CLI exits 1). ansible-runner's Worker.
Result<int> work(int in_fd, int out_fd, const WorkerOptions& options);

/// Reads a worker stream from `in_fd` and writes job_events, the artifacts and the echo.
/// An Error when the stream is bad or ends in an `error` status, saying why (e.g. "the worker
/// stream was cut"); what was written until then stays. ansible-runner's Processor.
Result<ProcessResult> process(int in_fd, const ProcessorOptions& options);

}  // namespace arunner
