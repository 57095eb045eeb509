// P3's second half: `process` ingest through the library with an event handler that returns
// false (so no job_events files are written). Prints events, wall seconds and the status.
//
//     build/arunner_process_bench WORKER_STREAM_FILE
//
// And the floor of the first half: how long the file system takes to create one file per event
// line of the stream (same sizes) in a new directory DIR, one plain open/write/close after the
// other, with nothing else to do. Prints files and wall seconds.
//
//     build/arunner_process_bench --create-files DIR WORKER_STREAM_FILE

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "stream/processor.hpp"

namespace {

int create_files(const char* dir, const char* stream_file) {
    std::ifstream in(stream_file, std::ios::binary);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (line.find("\"counter\": ") != std::string::npos &&
            line.find("\"uuid\": ") != std::string::npos) {
            lines.push_back(std::move(line));
        }
    }
    if (::mkdir(dir, 0700) != 0) {
        std::perror(dir);
        return 1;
    }
    auto started = std::chrono::steady_clock::now();
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string path = std::string(dir) + "/" + std::to_string(i + 1) +
                           "-02fc0000-0001-c776-f30d-000000000004.json";
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ::write(fd, lines[i].data(), lines[i].size()) < 0) {
            std::perror(path.c_str());
            return 1;
        }
        ::close(fd);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%zu %.6f\n", lines.size(), seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "--create-files") {
        return create_files(argv[2], argv[3]);
    }
    if (argc != 2) {
        std::fprintf(
            stderr,
            "usage: %s WORKER_STREAM_FILE\n       %s --create-files DIR WORKER_STREAM_FILE\n",
            argv[0], argv[0]);
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
    std::printf("%zu %.6f %s\n", events, seconds,
                std::string(arunner::to_string(result.status)).c_str());
    return 0;
}
