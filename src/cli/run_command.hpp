#pragma once
// `arunner run PRIVATE_DATA_DIR …`: the flags of ansible-runner's run subcommand, their checks
// and messages, and the call into the library.

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "arunner/runner.hpp"
#include "cli/debug_log.hpp"
#include "cli/run_flags.hpp"

namespace arunner::cli {

/// Parses `args` (everything after `run`, plus generic flags given before it) and runs the job.
/// Returns the process exit code: the job's rc, 254 for timeout/cancel, 1 for a failed check or
/// an error, 2 for a usage error.
int run_command(const std::vector<std::string>& args);

/// The callbacks of a CLI job: with `log` enabled, a status handler that logs each status, and
/// the command and cwd at `starting`, as ansible-runner's --debug does.
RunCallbacks logging_callbacks(DebugLog& log);

/// A parsed run, ready to go: its runner, and the debug log its status handler writes to.
struct PreparedRun {
    std::unique_ptr<DebugLog> log;
    std::shared_ptr<Runner> runner;
};

/// Sets up the job of `parsed` as `run` does (`start` too, before it detaches). The exit code
/// 1, after printing why, when the job cannot be set up.
std::variant<PreparedRun, int> prepare_run(const ParsedRun& parsed);

/// Runs the prepared job in the foreground; returns `run`'s exit code.
int run_prepared(Runner& runner);

}  // namespace arunner::cli
