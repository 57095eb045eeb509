#include "cli/worker_info.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string_view>
#include <vector>

#include "arunner/version.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/uuid.hpp"

namespace arunner::cli {

std::string worker_info_line() {
    std::vector<std::string> errors;
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    std::string mem = "null";
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);) {
        if (line.rfind("MemTotal:", 0) == 0) {
            // "MemTotal:       16315400 kB"
            std::string_view value = util::trim(std::string_view(line).substr(9));
            value = value.substr(0, value.find(' '));
            mem = std::to_string(util::parse_int<unsigned long long>(value).value_or(0) * 1024);
        }
    }
    if (mem == "null") {
        errors.push_back("Could not find MemTotal in /proc/meminfo");
    }
    std::string uuid = "null";
    const char* home = std::getenv("HOME");
    std::filesystem::path file = std::filesystem::path(home ? home : "/") / ".ansible_runner_uuid";
    auto text = util::read_file(file);
    if (text && !util::trim(*text).empty()) {
        uuid = std::string(util::trim(*text));
        ::chmod(file.c_str(), 0600);
    } else {
        std::string fresh = util::uuid4();
        if (util::write_file(file, fresh, 0600)) {
            uuid = fresh;
        } else {
            errors.push_back("Could not create " + file.string());
        }
    }
    std::string error_list = "[]";
    if (!errors.empty()) {
        error_list = "[";
        for (size_t i = 0; i < errors.size(); ++i) {
            error_list += (i ? ", " : "") + ("'" + errors[i] + "'");
        }
        error_list += "]";
    }
    return "{cpu_count: " + (cpus > 0 ? std::to_string(cpus) : std::string("null")) +
           ", errors: " + error_list + ", mem_in_bytes: " + mem +
           ", runner_version: " + arunner::version() + ", uuid: " + uuid + "}";
}

}  // namespace arunner::cli
