#include "cli/run_command.hpp"
#include "util/text.hpp"

#include <cstdio>
#include <variant>

namespace arunner::cli {

RunCallbacks logging_callbacks(DebugLog& log) {
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
    return callbacks;
}

std::variant<PreparedRun, int> prepare_run(const ParsedRun& parsed) {
    PreparedRun prepared;
    prepared.log = std::make_unique<DebugLog>(parsed.debug, parsed.logfile);
    DebugLog& log = *prepared.log;
    log.line("starting debug logging");
    RunCallbacks callbacks = logging_callbacks(log);
    // No cancel_callback: the library cancels the job on SIGINT and SIGTERM, as ansible-runner.
    auto runner = Runner::create(parsed.options, std::move(callbacks));
    if (!runner) {
        std::fprintf(stderr, "arunner: %s\n", util::printable(runner.error().message).c_str());
        return 1;
    }
    prepared.runner = std::move(*runner);
    return prepared;
}

int run_prepared(Runner& runner) {
    runner.run();
    if (runner.errored()) {
        std::fprintf(stderr, "arunner: %s\n", util::printable(runner.error_message()).c_str());
        return 1;
    }
    // A job rc of None (the child died of a signal) exits 0, as ansible-runner's sys.exit(None).
    return runner.rc().value_or(0);
}

int run_command(const std::vector<std::string>& args) {
    auto parsed = parse_run_arguments(args, "arunner run", true);
    if (auto* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    auto prepared = prepare_run(std::get<ParsedRun>(parsed));
    if (auto* exit_code = std::get_if<int>(&prepared)) {
        return *exit_code;
    }
    return run_prepared(*std::get<PreparedRun>(prepared).runner);
}

}  // namespace arunner::cli
