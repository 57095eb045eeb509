// P3's second half: `process` ingest through the library with an event handler that returns
// false (so no job_events files are written). Prints events per second.
//
//     build/arunner_process_bench WORKER_STREAM_FILE

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "stream/processor.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s WORKER_STREAM_FILE\n", argv[0]);
        return 2;
    }
    int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        std::perror(argv[1]);
        return 1;
    }
    char dir[] = "/tmp/arunner-process-bench-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
        return 1;
    }
    arunner::stream::ProcessorOptions options;
    options.private_data_dir = dir;
    options.ident = "bench";
    options.quiet = true;
    size_t events = 0;
    options.callbacks.event_handler = [&](arunner::Json&) {
        ++events;
        return false;
    };
    auto started = std::chrono::steady_clock::now();
    auto result = arunner::stream::run_processor(fd, options);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::filesystem::remove_all(dir);
    std::printf("%zu %.3f %s\n", events, seconds,
                std::string(arunner::to_string(result.status)).c_str());
    return 0;
}
