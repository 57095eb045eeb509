// arunner's command line: picks the subcommand the way argparse does and hands the rest of the
// arguments to it. No logic of its own.

#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "arunner/version.hpp"
#include "cli/run_command.hpp"
#include "cli/stream_commands.hpp"
#include "cli/usage.hpp"
#include "exec/job_processes.hpp"

namespace {

const std::vector<std::string_view> kCommands = {"run",      "start",  "stop",   "is-alive",
                                                 "transmit", "worker", "process"};

/// Top-level options that take a value (so the value is not mistaken for the command).
bool takes_value(std::string_view arg) {
    return arg == "--logfile" || arg == "-b" || arg == "--binary" || arg == "-i" ||
           arg == "--ident" || arg == "--rotate-artifacts" || arg == "--artifact-dir" ||
           arg == "--project-dir" || arg == "--inventory";
}

}  // namespace

int main(int argc, char** argv) {
    // A closed console must not kill a running job: writes fail with EPIPE instead.
    ::signal(SIGPIPE, SIG_IGN);
    // A job's descendants that double-fork or setsid away are reparented to arunner rather than
    // init, so a cancel or timeout can still kill and reap them (exec/job_processes.hpp). Only
    // the binary does this: the library leaves the choice to the program embedding it.
    arunner::exec::become_subreaper();
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::fputs(arunner::cli::common_commands_text().c_str(), stdout);
        std::fflush(stdout);
        return arunner::cli::usage_error("arunner",
                                         "the following arguments are required: command");
    }
    size_t command_index = args.size();
    bool version = false;
    bool help = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--version") {
            version = true;
        } else if (arg == "-h" || arg == "--help") {
            help = true;
        } else if (takes_value(arg)) {
            ++i;
        } else if (arg.empty() || arg[0] != '-') {
            command_index = i;
            break;
        }
    }
    if (command_index == args.size()) {
        // argparse acts on --version and --help as soon as it meets them.
        if (version) {
            std::printf("%s\n", arunner::version());
            return 0;
        }
        if (help) {
            std::fputs(arunner::cli::usage_line("arunner").c_str(), stdout);
            return 0;
        }
        return arunner::cli::usage_error("arunner",
                                         "the following arguments are required: command");
    }
    const std::string& command = args[command_index];
    std::vector<std::string> rest(args.begin(), args.begin() + static_cast<long>(command_index));
    rest.insert(rest.end(), args.begin() + static_cast<long>(command_index) + 1, args.end());
    if (command == "run") {
        return arunner::cli::run_command(rest);
    }
    if (command == "transmit") {
        return arunner::cli::transmit_command(rest);
    }
    if (command == "worker") {
        return arunner::cli::worker_command(rest);
    }
    if (command == "process") {
        return arunner::cli::process_command(rest);
    }
    bool known = false;
    for (auto name : kCommands) {
        known = known || name == command;
    }
    if (known) {
        std::fprintf(stderr, "arunner: '%s' is not implemented yet\n", command.c_str());
        return 1;
    }
    return arunner::cli::usage_error(
        "arunner", "argument command: invalid choice: '" + command +
                       "' (choose from 'run', 'start', 'stop', 'is-alive', 'transmit', "
                       "'worker', 'process')");
}
