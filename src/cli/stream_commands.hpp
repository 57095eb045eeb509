#pragma once
// `arunner transmit`, `arunner worker` and `arunner process`: the three ends of the streaming
// protocol (docs/stream.md), on stdin and stdout.

#include <string>
#include <vector>

namespace arunner::cli {

/// `transmit PRIVATE_DATA_DIR -p …`: the job stream on stdout. Exit 0, or 1 on error.
int transmit_command(const std::vector<std::string>& args);

/// `worker [--private-data-dir D] [--delete] [--keepalive-seconds N] [--worker-info]`: a job
/// stream on stdin, the worker stream on stdout. Exit code: the job's rc, 1 when the job could
/// not be set up. `worker cleanup …` removes what earlier jobs left.
int worker_command(const std::vector<std::string>& args);

/// `process PRIVATE_DATA_DIR [--ident X]`: a worker stream on stdin, artifacts on disk.
int process_command(const std::vector<std::string>& args);

/// What `--help` prints for worker, worker cleanup and process.
std::string worker_help();
std::string worker_cleanup_help();
std::string process_help();

}  // namespace arunner::cli
