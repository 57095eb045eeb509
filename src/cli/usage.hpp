#pragma once
// ansible-runner's (argparse's) wording for usage errors, so scripts that match on it keep
// working: "usage: …" then "<prog>: error: <message>" on stderr, exit 2.

#include <string>

namespace arunner::cli {

/// Exit code argparse uses for usage errors.
inline constexpr int kUsageExit = 2;

/// The block `ansible-runner` prints on stdout when run without a command.
std::string common_commands_text();

/// The one-paragraph usage of `prog` (e.g. "arunner run").
std::string usage_line(const std::string& prog);

/// Prints the usage and `<prog>: error: <message>` to stderr; returns kUsageExit.
int usage_error(const std::string& prog, const std::string& message);

}  // namespace arunner::cli
