#pragma once
// `arunner run PRIVATE_DATA_DIR …`: the flags of ansible-runner's run subcommand, their checks
// and messages, and the call into the library.

#include <string>
#include <vector>

namespace arunner::cli {

/// Parses `args` (everything after `run`, plus generic flags given before it) and runs the job.
/// Returns the process exit code: the job's rc, 254 for timeout/cancel, 1 for a failed check or
/// an error, 2 for a usage error.
int run_command(const std::vector<std::string>& args);

}  // namespace arunner::cli
