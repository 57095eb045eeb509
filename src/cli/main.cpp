// arunner's command line: picks the subcommand the way argparse does and hands the rest of the
// arguments to it. No logic of its own.

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "arunner/program.hpp"
#include "cli/commands.hpp"

int main(int argc, char** argv) {
    // A closed console must not kill a running job: writes fail with EPIPE instead.
    ::signal(SIGPIPE, SIG_IGN);
    // A job's descendants that double-fork or setsid away are reparented to arunner rather than
    // init, so a cancel or timeout can still kill and reap them (docs/orphans.md). Only
    // the binary does this: the library leaves the choice to the program embedding it.
    arunner::become_subreaper();
    // The library's notices, such as the one line saying arunner started its own podman service.
    arunner::set_notice_handler(
        [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
    return arunner::cli::main_command(std::vector<std::string>(argv + 1, argv + argc));
}
