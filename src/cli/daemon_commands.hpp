#pragma once
// Daemon mode: `start` runs a job as `run` does, detached in the background; `stop` cancels it;
// `is-alive` tells whether it still runs. The daemon is known by its pid file, PDD/pid
// (cli/pid_lock.hpp). See docs/daemon.md.

#include <string>
#include <vector>

namespace arunner::cli {

/// `start PRIVATE_DATA_DIR [run flags]`: run's checks and errors, then the job in a daemon. Exit
/// 0 once the daemon has written and locked its pid file; 1 when a daemon of that dir is alive
/// or the job cannot be set up; run's other exit codes for its checks.
int start_command(const std::vector<std::string>& args);

/// `stop PRIVATE_DATA_DIR`: cancels the daemon's job (every process of it, and its container)
/// and waits until the daemon has exited. Exit 0; 1 when there is no live daemon.
int stop_command(const std::vector<std::string>& args);

/// `is-alive PRIVATE_DATA_DIR`: exit 0 when the dir's daemon lives, 1 otherwise.
int is_alive_command(const std::vector<std::string>& args);

}  // namespace arunner::cli
