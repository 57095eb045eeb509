#pragma once
// `arunner worker`: reads a job stream (kwargs, the zipped private data dir, eof), runs the job
// with the local runner, and writes the worker stream: status lines, one line per event, the
// artifacts zip and eof (docs/stream.md). Only protocol bytes reach the output; every failure
// becomes a `{"status": "error", ...}` line followed by `{"eof": true}`.

#include <filesystem>
#include <optional>

#include "arunner/error.hpp"
#include "stream/zip_reader.hpp"

namespace arunner::runner {

using WorkerOptions = arunner::WorkerOptions;  // include/arunner/stream_options.hpp

/// Runs one job from `in_fd` to `out_fd`. Returns the exit code: the job's rc (0 when it has
/// none), 0 after a malformed stream (as ansible-runner), 128+N after signal N; an Error (what
/// the `error` line said) when the job could not be set up or ended in an error.
Result<int> run_worker(int in_fd, int out_fd, const WorkerOptions& options);

}  // namespace arunner::runner
