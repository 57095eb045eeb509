#pragma once
// ansible-runner's (argparse's) text for a command line defined with CLI11: the usage block,
// --help, and usage errors ("usage: …" then "<prog>: error: <message>" on stderr, exit 2), so
// users and scripts see what they saw with ansible-runner. Everything is generated from the
// CLI11 definition: a flag is defined once and shows up in usage, help and parsing alike.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace arunner::cli {

/// Exit code argparse uses for usage errors.
inline constexpr int kUsageExit = 2;

/// The block `ansible-runner` prints on stdout when run without a command.
std::string common_commands_text();

/// Commands a command line dispatches to (argparse's subparsers), for usage and help.
struct Subcommands {
    std::string description;  ///< the line under the "subcommands:" heading
    std::string help;         ///< the help of the `{a,b}` entry
    std::vector<std::pair<std::string, std::string>> commands;  ///< name, help
    /// `{a,b}`.
    std::string choices() const;
};

/// One command line: its CLI11 definition (flags are added to app()) and argparse's texts for
/// it. Options go to argparse's "options" section unless given a CLI11 group; a metavar other
/// than the upper-cased long name is given with CLI11's option_text().
class CommandLine {
  public:
    /// `prog` as in messages ("arunner run"); `description` shown under the usage in --help.
    explicit CommandLine(std::string prog, const std::string& description = "");

    CLI::App& app() { return app_; }
    const std::string& prog() const { return prog_; }
    void set_subcommands(Subcommands subcommands) { subcommands_ = std::move(subcommands); }
    /// The paragraph --help shows under the heading of the CLI11 group `group`.
    void describe_group(const std::string& group, const std::string& description) {
        group_descriptions_.emplace_back(group, description);
    }

    /// The usage block, wrapped as argparse wraps it.
    std::string usage() const;
    /// What --help prints.
    std::string help() const;
    /// Prints the usage and `<prog>: error: <message>` to stderr; returns kUsageExit.
    int usage_error(const std::string& message) const;
    /// Parses `args`. Returns the exit code to leave with after printing --help (0) or a usage
    /// error (2); nullopt when the command is to run. With `argparse_wording`, CLI11's messages
    /// for excluded and extra arguments are put in argparse's words.
    std::optional<int> parse(const std::vector<std::string>& args, bool argparse_wording = false);

  private:
    std::string prog_;
    std::string description_;
    CLI::App app_;
    std::optional<Subcommands> subcommands_;
    std::vector<std::pair<std::string, std::string>> group_descriptions_;
};

}  // namespace arunner::cli
