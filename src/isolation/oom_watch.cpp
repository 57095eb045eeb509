#include "isolation/oom_watch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "util/files.hpp"
#include "util/strings.hpp"

namespace arunner::isolation {

std::optional<long long> parse_oom_kills(std::string_view text) {
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        constexpr std::string_view kKey = "oom_kill ";
        if (line.starts_with(kKey)) {
            return util::parse_int<long long>(util::trim(line.substr(kKey.size())));
        }
    }
    return std::nullopt;
}

std::optional<OomWatch> OomWatch::open(const engine::ContainerInfo& info) {
    if (info.pid <= 0 || info.id.size() < 12) {
        return std::nullopt;
    }
    auto cgroups = util::read_file("/proc/" + std::to_string(info.pid) + "/cgroup");
    if (!cgroups) {
        return std::nullopt;
    }
    // "N:memory:/path" (v1) wins over "0::/path" (v2, or the unified part of a hybrid host).
    std::string v1;
    std::string v2;
    std::string_view text = *cgroups;
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        size_t first = line.find(':');
        size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos) {
            continue;
        }
        std::string_view controllers = line.substr(first + 1, second - first - 1);
        std::string_view path = line.substr(second + 1);
        if (controllers == "memory") {
            v1 = path;
        } else if (controllers.empty() && line.starts_with("0:")) {
            v2 = path;
        }
    }
    // The pid must be this container's: an engine elsewhere has its own pid numbers.
    auto ours = [&](const std::string& path) {
        return !path.empty() && path.find(info.id) != std::string::npos &&
               path.find("..") == std::string::npos;
    };
    std::string file;
    if (ours(v1)) {
        file = "/sys/fs/cgroup/memory" + v1 + "/memory.oom_control";
    } else if (ours(v2)) {
        file = "/sys/fs/cgroup" + v2 + "/memory.events";
    } else {
        return std::nullopt;
    }
    util::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return std::nullopt;
    }
    OomWatch watch(std::move(fd));
    if (!watch.kills()) {
        return std::nullopt;
    }
    return watch;
}

std::optional<long long> OomWatch::kills() const {
    char buffer[1024];
    ssize_t n = ::pread(fd_.get(), buffer, sizeof(buffer) - 1, 0);
    if (n <= 0) {
        return std::nullopt;
    }
    return parse_oom_kills(std::string_view(buffer, static_cast<size_t>(n)));
}

}  // namespace arunner::isolation
