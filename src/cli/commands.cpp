#include "cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>

#include "arunner/version.hpp"
#include "cli/daemon_commands.hpp"
#include "cli/query_subcommands.hpp"
#include "cli/run_command.hpp"
#include "cli/run_flags.hpp"
#include "cli/stream_commands.hpp"
#include "cli/usage.hpp"

namespace arunner::cli {
namespace {

/// A command: its name, its help in `arunner --help`, and what runs it.
struct Command {
    const char* name;
    const char* help;
    std::function<int(const std::vector<std::string>&)> run;
};

const std::vector<Command>& commands() {
    static const std::vector<Command> kCommands = {
        {"run", "Run ansible-runner in the foreground", run_command},
        {"start", "Start an ansible-runner process in the background", start_command},
        {"stop", "Stop an ansible-runner process that's running in the background", stop_command},
        {"is-alive", "Check if a an ansible-runner process in the background is still running.",
         is_alive_command},
        {"transmit", "Send a job to a remote ansible-runner process", transmit_command},
        {"worker", "Execute work streamed from a controlling instance", worker_command},
        {"process", "Receive the output of remote ansible-runner work and distribute the results",
         process_command},
        {"command", "Run a command (an ansible-* tool or any executable) as a job",
         command_subcommand},
        {"doc", "Show plugin documentation or list plugins (ansible-doc)", doc_subcommand},
        {"inventory", "Show an inventory: every host, one host or the graph (ansible-inventory)",
         inventory_subcommand},
        {"config", "Show Ansible's configuration (ansible-config)", config_subcommand},
        {"roles", "List roles with an argument spec, or show one (ansible-doc -t role)",
         roles_subcommand},
    };
    return kCommands;
}

/// The top-level flags, as typed. Those before the command are handed to it, as argparse's
/// parent parser shares them with every subparser.
struct TopFlags {
    bool help = false;
    CommonFlags common;
    RunnerFlags runner;
};

void define(CommandLine& line, TopFlags& f) {
    // Help is the command's when one is given (below), so the flag is an ordinary one here.
    line.app().set_help_flag();
    line.app().add_flag("-h,--help", f.help, "show this help message and exit");
    add_common_flags(line, f.common);
    add_runner_flags(line, f.runner);
    Subcommands subcommands;
    subcommands.description = "COMMAND PRIVATE_DATA_DIR [ARGS]";
    subcommands.help = "Command to invoke";
    for (const Command& command : commands()) {
        subcommands.commands.emplace_back(command.name, command.help);
    }
    line.set_subcommands(std::move(subcommands));
    // Stop at the first positional, the command; keep what is not a top-level flag for it.
    line.app().prefix_command();
    line.app().allow_extras();
}

const char* const kDescription = "Use 'arunner' (with no arguments) to see basic usage";

}  // namespace

std::string top_level_help() {
    CommandLine line("arunner", kDescription);
    TopFlags f;
    define(line, f);
    return line.help();
}

int main_command(const std::vector<std::string>& args) {
    CommandLine line("arunner", kDescription);
    TopFlags f;
    define(line, f);
    if (args.empty()) {
        std::fputs(common_commands_text().c_str(), stdout);
        std::fflush(stdout);
        return line.usage_error("the following arguments are required: command");
    }
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        line.app().parse(reversed);  // CLI11 takes the arguments last-first
    } catch (const CLI::ArgumentMismatch&) {
        // A flag that wants a value last: what argparse misses then is the command.
        return line.usage_error("the following arguments are required: command");
    } catch (const CLI::ParseError& e) {
        return line.usage_error(e.what());
    }
    // The command is the first of the arguments left that is no flag; everything after it
    // was left too.
    std::vector<std::string> left = line.app().remaining();
    size_t command_in_left = 0;
    while (command_in_left < left.size() && !left[command_in_left].empty() &&
           left[command_in_left][0] == '-') {
        ++command_in_left;
    }
    if (command_in_left == left.size()) {
        // argparse acts on --version and --help as soon as it meets them.
        if (f.common.version) {
            std::printf("%s\n", arunner::version());
            return 0;
        }
        if (f.help) {
            std::fputs(line.help().c_str(), stdout);
            return 0;
        }
        return line.usage_error("the following arguments are required: command");
    }
    const size_t command_index = args.size() - (left.size() - command_in_left);
    const std::string& name = args[command_index];
    std::vector<std::string> rest(args.begin(), args.begin() + static_cast<long>(command_index));
    rest.insert(rest.end(), args.begin() + static_cast<long>(command_index) + 1, args.end());
    for (const Command& command : commands()) {
        if (name != command.name) {
            continue;
        }
        return command.run(rest);
    }
    std::string choices;
    for (const Command& command : commands()) {
        choices += std::string(choices.empty() ? "" : ", ") + "'" + command.name + "'";
    }
    return line.usage_error("argument command: invalid choice: '" + name + "' (choose from " +
                            choices + ")");
}

}  // namespace arunner::cli
