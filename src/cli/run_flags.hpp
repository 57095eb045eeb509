#pragma once
// The flags of ansible-runner's command line, each defined once with its argparse help: those
// every command takes (--version, --debug, --logfile), the runner options the top level, run,
// start and transmit share, and the flags of run and transmit (ansible, roles, modules,
// container groups, plus isolation for run); their pre-run checks and messages (docs/cli.md),
// turned into RunOptions.

#include <string>
#include <variant>
#include <vector>

#include "arunner/run_options.hpp"
#include "cli/usage.hpp"

namespace arunner::cli {

/// --version, --debug and --logfile, as typed.
struct CommonFlags {
    bool version = false;
    bool debug = false;
    std::string logfile;
};

/// Adds --version, --debug and --logfile (every command takes them).
void add_common_flags(CommandLine& line, CommonFlags& flags);

/// The "Ansible Runner Options" group, as typed.
struct RunnerFlags {
    std::string binary, ident, artifact_dir, project_dir, inventory;
    int rotate_artifacts = 0;
    bool json = false, omit_event_data = false, only_failed_event_data = false;
    bool omit_env_files = false, quiet = false;
    int verbosity = 0;
};

/// Adds the "Ansible Runner Options" group (the top level, run and transmit take it).
void add_runner_flags(CommandLine& line, RunnerFlags& flags);

/// The runner options of `flags` that every job takes (artifact and project dirs, rotation,
/// output modes, env files) laid onto `options`.
void apply_runner_flags(const RunnerFlags& flags, RunOptions& options);

/// What the flags say.
struct ParsedRun {
    RunOptions options;
    bool debug = false;
    std::string logfile;
};

/// Parses `args` for the subcommand `prog` ("arunner run"). Returns the options, or the exit
/// code to leave with after printing help, the version, or an error (argparse's and
/// ansible-runner's wording: 2 for usage errors, 1 for failed checks).
std::variant<ParsedRun, int> parse_run_arguments(const std::vector<std::string>& args,
                                                 const char* prog, bool accept_isolation);

/// Parses `args` for stop and is-alive (`prog`, "arunner stop"): they take the flags of transmit
/// and use none of them (no pre-run checks), as ansible-runner. Only the private data dir (made
/// absolute), debug and logfile are set; or the exit code, as parse_run_arguments.
std::variant<ParsedRun, int> parse_control_arguments(const std::vector<std::string>& args,
                                                     const char* prog);

/// The --help text of `prog` ("arunner run" with the isolation flags, "arunner transmit"
/// without), as parse_run_arguments prints it.
std::string run_help(const char* prog, bool accept_isolation);

}  // namespace arunner::cli
