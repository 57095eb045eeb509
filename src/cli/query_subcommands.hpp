#pragma once
// `arunner command` (ansible-runner's run_command) and the helper queries `arunner doc`,
// `inventory`, `config` and `roles` (get_plugin_docs … get_role_argspec): thin callers of
// arunner/commands.hpp (docs/commands.md).

#include <string>
#include <vector>

namespace arunner::cli {

/// `arunner command [options] EXECUTABLE [ARGS...]`: runs the command as a job, its output on
/// the console as `run` echoes it; the exit code is the command's rc (254 for timeout or cancel,
/// 127 when the executable is missing), 1 when the job cannot be set up, 2 for a usage error.
int command_subcommand(const std::vector<std::string>& args);

/// `arunner doc [options] [NAMES...]`: ansible-doc for plugins (or --list / --list-files).
int doc_subcommand(const std::vector<std::string>& args);

/// `arunner inventory (--list | --host HOST | --graph) [-i INVENTORY]... [options]`.
int inventory_subcommand(const std::vector<std::string>& args);

/// `arunner config {list,dump,view} [-c FILE] [--only-changed]`.
int config_subcommand(const std::vector<std::string>& args);

/// `arunner roles [--list | --argspec ROLE] [--collection C] [--playbook-dir D]`.
int roles_subcommand(const std::vector<std::string>& args);

}  // namespace arunner::cli
