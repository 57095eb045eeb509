#include "cli/run_command.hpp"

#include <cstdio>
#include <variant>

#include "arunner/runner.hpp"
#include "cli/debug_log.hpp"
#include "cli/run_flags.hpp"

namespace arunner::cli {

int run_command(const std::vector<std::string>& args) {
    auto parsed = parse_run_arguments(args, "arunner run", true);
    if (auto* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    auto& [options, debug, logfile] = std::get<ParsedRun>(parsed);
    DebugLog log(debug, logfile);
    log.line("starting debug logging");
    RunCallbacks callbacks;
    if (log.enabled()) {
        callbacks.status_handler = [&log](const StatusUpdate& update) {
            log.line("status: " + std::string(to_string(update.status)));
            if (update.status == JobStatus::starting) {
                std::string command;
                for (const auto& word : update.command) {
                    command += (command.empty() ? "" : " ") + word;
                }
                log.line("command: " + command);
                log.line("cwd: " + update.cwd);
            }
        };
    }
    // No cancel_callback: the library cancels the job on SIGINT and SIGTERM, as ansible-runner.
    auto runner = Runner::create(options, std::move(callbacks));
    if (!runner) {
        std::fprintf(stderr, "arunner: %s\n", runner.error().message.c_str());
        return 1;
    }
    (*runner)->run();
    if ((*runner)->errored()) {
        std::fprintf(stderr, "arunner: %s\n", (*runner)->error_message().c_str());
        return 1;
    }
    // A job rc of None (the child died of a signal) exits 0, as ansible-runner's sys.exit(None).
    return (*runner)->rc().value_or(0);
}

}  // namespace arunner::cli
