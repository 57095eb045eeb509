#include "isolation/container_sweep.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "engine/container_engine.hpp"
#include "util/strings.hpp"

namespace arunner::isolation {
namespace {

// A swept container's command is already an orphan: it gets this long between SIGTERM and
// SIGKILL before it is removed.
constexpr int kSweepStopGraceSeconds = 1;

/// A small /proc file's content; empty when it cannot be read.
std::optional<std::string> read_small_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    std::string text;
    char buffer[1024];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            text.append(buffer, static_cast<size_t>(n));
            if (text.size() > size_t{64} * 1024) {
                break;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
    ::close(fd);
    return text;
}

template <typename Number>
bool parse_number(std::string_view text, Number& out) {
    std::optional<Number> parsed = util::parse_int<Number>(text);
    if (parsed) {
        out = *parsed;
    }
    return parsed.has_value();
}

/// Field 22 (starttime) of a /proc/<pid>/stat text.
std::optional<uint64_t> start_time_from_stat(std::string_view stat) {
    size_t close_paren = stat.rfind(')');  // the command name may hold spaces and ')'
    if (close_paren == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view rest = stat.substr(close_paren + 1);
    int field = 2;  // the command name was field 2
    while (!rest.empty()) {
        size_t start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(start);
        size_t end = rest.find(' ');
        std::string_view token = rest.substr(0, end);
        if (++field == 22) {
            uint64_t value = 0;
            if (!parse_number(token, value)) {
                return std::nullopt;
            }
            return value;
        }
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    return std::nullopt;
}

std::optional<uint64_t> start_time_of_pid(pid_t pid) {
    if (pid <= 0) {
        return std::nullopt;
    }
    auto stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) {
        return std::nullopt;
    }
    return start_time_from_stat(*stat);
}

Result<uint64_t> pid_namespace_inode() {
    struct stat st {};
    if (::stat("/proc/self/ns/pid", &st) != 0) {
        return Error{std::string("cannot read /proc/self/ns/pid: ") + std::strerror(errno)};
    }
    return static_cast<uint64_t>(st.st_ino);
}

Result<std::string> boot_id() {
    auto text = read_small_file("/proc/sys/kernel/random/boot_id");
    const std::string_view id = text ? util::trim(*text) : std::string_view();
    if (id.empty()) {
        return Error{"cannot read /proc/sys/kernel/random/boot_id"};
    }
    return std::string(id);
}

const std::string* label_value(const std::vector<std::pair<std::string, std::string>>& labels,
                               std::string_view key) {
    for (const auto& [name, value] : labels) {
        if (name == key) {
            return &value;
        }
    }
    return nullptr;
}

/// The controller named by the labels, when it is on this boot and in this pid namespace (the
/// only controllers whose life can be judged from here).
std::optional<ControllerId> judgeable_controller(
    const std::vector<std::pair<std::string, std::string>>& labels, const HostView& host) {
    const std::string* text = label_value(labels, kControllerLabel);
    if (!text) {
        return std::nullopt;
    }
    auto id = parse_controller_label(*text);
    if (!id || host.boot_id.empty() || id->boot_id != host.boot_id ||
        id->pid_namespace != host.pid_namespace || !host.start_time_of) {
        return std::nullopt;
    }
    return id;
}

}  // namespace

std::string format_controller_label(const ControllerId& id) {
    return "pid=" + std::to_string(id.pid) + " start=" + std::to_string(id.start_time) +
           " boot=" + id.boot_id + " pidns=" + std::to_string(id.pid_namespace);
}

std::optional<ControllerId> parse_controller_label(std::string_view text) {
    ControllerId id;
    bool seen_pid = false, seen_start = false, seen_boot = false, seen_ns = false;
    while (!text.empty()) {
        size_t end = text.find(' ');
        std::string_view word = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        size_t eq = word.find('=');
        if (eq == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view key = word.substr(0, eq);
        std::string_view value = word.substr(eq + 1);
        bool ok = false;
        if (key == "pid" && !seen_pid) {
            ok = parse_number(value, id.pid) && id.pid > 0;
            seen_pid = true;
        } else if (key == "start" && !seen_start) {
            ok = parse_number(value, id.start_time);
            seen_start = true;
        } else if (key == "boot" && !seen_boot) {
            ok = !value.empty() && value.size() <= 64;
            id.boot_id = std::string(value);
            seen_boot = true;
        } else if (key == "pidns" && !seen_ns) {
            ok = parse_number(value, id.pid_namespace) && id.pid_namespace != 0;
            seen_ns = true;
        }
        if (!ok) {
            return std::nullopt;
        }
    }
    if (!seen_pid || !seen_start || !seen_boot || !seen_ns) {
        return std::nullopt;
    }
    return id;
}

Result<ControllerId> this_controller() {
    ControllerId id;
    id.pid = ::getpid();
    auto start = start_time_of_pid(id.pid);
    if (!start) {
        return Error{"cannot read this process's start time from /proc/self/stat"};
    }
    id.start_time = *start;
    ARUNNER_ASSIGN_OR_RETURN(auto boot, boot_id());
    id.boot_id = boot;
    ARUNNER_ASSIGN_OR_RETURN(auto ns, pid_namespace_inode());
    id.pid_namespace = ns;
    return id;
}

Result<HostView> this_host() {
    HostView host;
    ARUNNER_ASSIGN_OR_RETURN(auto boot, boot_id());
    host.boot_id = boot;
    ARUNNER_ASSIGN_OR_RETURN(auto ns, pid_namespace_inode());
    host.pid_namespace = ns;
    host.start_time_of = start_time_of_pid;
    return host;
}

std::optional<std::string> controller_gone(
    const std::vector<std::pair<std::string, std::string>>& labels, const HostView& host) {
    auto id = judgeable_controller(labels, host);
    if (!id) {
        return std::nullopt;
    }
    auto start = host.start_time_of(id->pid);
    if (!start) {
        return "its arunner (pid " + std::to_string(id->pid) + ") is gone";
    }
    if (*start != id->start_time) {
        return "its arunner (pid " + std::to_string(id->pid) +
               ") is gone; the pid now belongs to another process";
    }
    return std::nullopt;
}

std::optional<std::string> live_controller(
    const std::vector<std::pair<std::string, std::string>>& labels, const HostView& host) {
    const std::string* text = label_value(labels, kControllerLabel);
    if (!text) {
        return std::nullopt;
    }
    auto id = parse_controller_label(*text);
    if (!id) {
        return std::nullopt;
    }
    auto here = judgeable_controller(labels, host);
    if (!here) {
        return "arunner (pid " + std::to_string(id->pid) +
               ") in another pid namespace, boot or host, which cannot be judged from here";
    }
    if (controller_gone(labels, host)) {
        return std::nullopt;
    }
    return "arunner (pid " + std::to_string(id->pid) + "), still running";
}

Result<SweepReport> sweep_orphaned_containers(engine::ContainerEngine& engine,
                                              const HostView& host) {
    ARUNNER_ASSIGN_OR_RETURN(auto containers, engine.list(kControllerLabel));
    SweepReport report;
    for (const auto& c : containers) {
        auto reason = controller_gone(c.labels, host);
        if (!reason) {
            continue;
        }
        // Stop first so the command gets its SIGTERM; a failure (already stopped, gone) is no
        // reason not to remove it.
        (void)engine.stop(c.id, kSweepStopGraceSeconds);
        if (auto removed = engine.remove(c.id, true); !removed) {
            report.errors.push_back("cannot remove container " + c.name + " (" + c.id +
                                    "), whose " + reason->substr(4) + ": " +
                                    removed.error().message);
            continue;
        }
        report.removed.push_back(SweptContainer{c.id, c.name, *reason});
    }
    return report;
}

Result<int> cleanup_orphaned_containers(engine::ContainerEngine& engine, std::FILE* out) {
    ARUNNER_ASSIGN_OR_RETURN(auto host, this_host());
    ARUNNER_ASSIGN_OR_RETURN(auto report, sweep_orphaned_containers(engine, host));
    for (const auto& c : report.removed) {
        std::fprintf(out, "Removed container %s (%s): %s\n", c.name.c_str(),
                     c.id.substr(0, 12).c_str(), c.reason.c_str());
    }
    if (!report.errors.empty()) {
        std::string text = report.errors.front();
        for (size_t i = 1; i < report.errors.size(); ++i) {
            text += "\n" + report.errors[i];
        }
        return Error{text};
    }
    return static_cast<int>(report.removed.size());
}

}  // namespace arunner::isolation
