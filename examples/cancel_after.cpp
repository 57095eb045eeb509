// Starts a playbook asynchronously, prints events as they arrive, and cancels the job after N
// of them.
//
//     build/examples/cancel_after PRIVATE_DATA_DIR PLAYBOOK N

#include <arunner/runner.hpp>

#include <atomic>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s PRIVATE_DATA_DIR PLAYBOOK N\n", argv[0]);
        return 2;
    }
    const int limit = std::stoi(argv[3]);
    std::atomic<int> seen{0};

    arunner::RunOptions options;
    options.private_data_dir = argv[1];
    options.playbook = argv[2];
    options.quiet = true;

    arunner::RunCallbacks callbacks;
    // Polled by the job's thread; true cancels: the child's process group is killed.
    callbacks.cancel_callback = [&] { return seen.load() >= limit; };

    auto runner = arunner::run_async(options, callbacks);
    if (!runner) {
        std::fprintf(stderr, "cancel_after: %s\n", runner.error().message.c_str());
        return 1;
    }
    arunner::EventStream stream = (*runner)->event_stream();
    while (auto event = stream.next()) {
        int n = ++seen;
        std::printf("%d %s\n", n, event->value("event", "").c_str());
        std::fflush(stdout);
    }
    (*runner)->wait();
    std::printf("status %s, rc %d\n", std::string(arunner::to_string((*runner)->status())).c_str(),
                (*runner)->rc().value_or(-1));
    return 0;
}
