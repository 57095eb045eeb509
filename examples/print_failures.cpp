// Runs a playbook from a private data dir and prints each failed task the moment it fails.
//
//     build/examples/print_failures PRIVATE_DATA_DIR PLAYBOOK
//
// Exits with the job's rc.

#include <arunner/runner.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s PRIVATE_DATA_DIR PLAYBOOK\n", argv[0]);
        return 2;
    }
    arunner::RunOptions options;
    options.private_data_dir = argv[1];
    options.playbook = argv[2];
    options.quiet = true;  // only our own lines on the console

    arunner::RunCallbacks callbacks;
    callbacks.event_handler = [](arunner::Json& event) {
        const std::string type = event.value("event", "");
        if (type == "runner_on_failed" || type == "runner_item_on_failed" ||
            type == "runner_on_unreachable") {
            const arunner::Json& data = event["event_data"];
            const bool ignored = data.contains("ignore_errors") && data["ignore_errors"] == true;
            std::printf("FAILED %s on %s%s\n", data.value("task", "?").c_str(),
                        data.value("host", "?").c_str(), ignored ? " (ignored)" : "");
            std::fflush(stdout);
        }
        return true;  // keep writing job_events as usual
    };

    auto runner = arunner::run(options, callbacks);
    if (!runner) {
        std::fprintf(stderr, "print_failures: %s\n", runner.error().message.c_str());
        return 1;
    }
    std::printf("status %s, rc %d\n", std::string(arunner::to_string((*runner)->status())).c_str(),
                (*runner)->rc().value_or(-1));
    return (*runner)->rc().value_or(0);
}
