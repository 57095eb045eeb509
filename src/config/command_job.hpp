#pragma once
// run_command's part of preparing a job (ansible-runner's CommandConfig): the command exactly as
// given, its cwd, the caller's stdin/stdout/stderr descriptors, and what a command cannot take.
// prepare_job (config/job_config.hpp) calls these; docs/commands.md.

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"

namespace arunner::config {

struct JobConfig;

/// Checks input_fd, output_fd and error_fd (subprocess mode only, open descriptors, a local
/// child only) and, when `options.command` is set, that no field of a playbook run is (each one
/// set is named in the Error); copies the fds into `job`. Called once job.settings,
/// job.runner_mode and job.worker_container are known.
Status check_command_options(const RunOptions& options, JobConfig& job);

/// Resolves `options.command` into `job`: the command as given (no ansible arguments added), the
/// cwd (host_cwd, which must be a directory, else the current directory), the subprocess_timeout
/// setting in subprocess mode, and the ssh key. Called once job.env and job.container are set.
Status resolve_command_job(const RunOptions& options, JobConfig& job);

}  // namespace arunner::config
