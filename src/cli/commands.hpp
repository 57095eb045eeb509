#pragma once
// The top of arunner's command line: `arunner [flags] COMMAND [args]`, the commands and their
// dispatch, as ansible-runner's argparse parser picks its subcommand.

#include <string>
#include <vector>

namespace arunner::cli {

/// Runs the command `args` (argv without the program name) names; returns the exit code.
int main_command(const std::vector<std::string>& args);

/// What `arunner --help` prints.
std::string top_level_help();

}  // namespace arunner::cli
