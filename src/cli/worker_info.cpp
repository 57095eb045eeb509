#include "cli/worker_info.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "arunner/version.hpp"
#include "util/files.hpp"
#include "util/uuid.hpp"

namespace arunner::cli {
namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

std::string worker_info_line() {
    std::vector<std::string> errors;
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    std::string mem = "null";
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);) {
        if (line.rfind("MemTotal:", 0) == 0) {
            std::istringstream fields(line.substr(9));
            unsigned long long kb = 0;
            fields >> kb;
            mem = std::to_string(kb * 1024);
        }
    }
    if (mem == "null") {
        errors.push_back("Could not find MemTotal in /proc/meminfo");
    }
    std::string uuid = "null";
    const char* home = std::getenv("HOME");
    std::filesystem::path file = std::filesystem::path(home ? home : "/") / ".ansible_runner_uuid";
    auto text = util::read_file(file);
    if (text && !trim(*text).empty()) {
        uuid = trim(*text);
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
