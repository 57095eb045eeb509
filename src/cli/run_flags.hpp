#pragma once
// The flags ansible-runner's run, start and transmit share (runner, ansible, roles, modules and
// container groups, plus isolation for run), their pre-run checks and messages (docs/cli.md),
// turned into RunOptions.

#include <string>
#include <variant>
#include <vector>

#include "arunner/run_options.hpp"

namespace arunner::cli {

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

}  // namespace arunner::cli
