#include "exec/job_processes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "util/strings.hpp"

namespace arunner::exec {
namespace {

using Clock = std::chrono::steady_clock;

// A scan that keeps finding new processes (a fork bomb) is given up after this many rounds;
// everything found so far has been killed by then.
constexpr int kMaxScanRounds = 50;

std::atomic<bool> g_subreaper{false};
std::mutex g_leaders_mutex;
std::set<pid_t> g_leaders;

/// What /proc/<pid>/stat says about one process.
struct ProcessEntry {
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t pgrp = 0;
    pid_t session = 0;
    bool zombie = false;
};

std::optional<ProcessEntry> read_stat(pid_t pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    char buffer[1024];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    ::close(fd);
    if (n <= 0) {
        return std::nullopt;
    }
    std::string_view text(buffer, static_cast<size_t>(n));
    // "pid (comm) state ppid pgrp session ...": comm may hold spaces and ')'.
    size_t close_paren = text.rfind(')');
    if (close_paren == std::string_view::npos || close_paren + 2 >= text.size()) {
        return std::nullopt;
    }
    ProcessEntry entry;
    entry.pid = pid;
    entry.zombie = text[close_paren + 2] == 'Z' || text[close_paren + 2] == 'X';
    const char* p = text.data() + close_paren + 3;
    const char* end = text.data() + text.size();
    for (pid_t* field : {&entry.ppid, &entry.pgrp, &entry.session}) {
        while (p < end && *p == ' ') {
            ++p;
        }
        const char* next = std::find(p, end, ' ');
        auto value = util::parse_int<pid_t>(std::string_view(p, static_cast<size_t>(next - p)));
        if (!value) {
            return std::nullopt;
        }
        *field = *value;
        p = next;
    }
    return entry;
}

std::vector<ProcessEntry> scan_processes() {
    std::vector<ProcessEntry> entries;
    DIR* dir = ::opendir("/proc");
    if (!dir) {
        return entries;
    }
    while (dirent* d = ::readdir(dir)) {
        std::string_view name(d->d_name);
        auto pid = util::parse_int<pid_t>(name);
        if (!pid || *pid <= 0) {
            continue;
        }
        if (auto entry = read_stat(*pid)) {
            entries.push_back(*entry);
        }
    }
    ::closedir(dir);
    return entries;
}

bool is_other_leader(pid_t pid, pid_t leader) {
    if (pid == leader) {
        return false;
    }
    std::lock_guard<std::mutex> lock(g_leaders_mutex);
    return g_leaders.count(pid) != 0;
}

/// The pids of the job in `entries`: its group and session, the leader's descendants and, in a
/// subreaper arunner made, this process's children that no other job leads, with theirs.
std::set<pid_t> job_members(const std::vector<ProcessEntry>& entries, pid_t leader) {
    const pid_t self = ::getpid();
    std::set<pid_t> roots{leader};
    std::set<pid_t> members;
    for (const auto& e : entries) {
        if (e.pid == self) {
            continue;
        }
        bool in_group = e.pgrp == leader || e.session == leader;
        // An orphan reparented to us.
        bool our_orphan = g_subreaper.load() && e.ppid == self && !is_other_leader(e.pid, leader);
        if (in_group || our_orphan) {
            members.insert(e.pid);
            roots.insert(e.pid);
        }
    }
    // Descendants of every root, to any depth (a few passes over the list).
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& e : entries) {
            if (e.pid != self && !roots.count(e.pid) && roots.count(e.ppid)) {
                roots.insert(e.pid);
                members.insert(e.pid);
                grew = true;
            }
        }
    }
    members.insert(leader);
    members.erase(self);
    return members;
}

}  // namespace

bool become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        return false;
    }
    g_subreaper.store(true);
    return true;
}

void note_job_leader(pid_t pid, bool alive) {
    std::lock_guard<std::mutex> lock(g_leaders_mutex);
    if (alive) {
        g_leaders.insert(pid);
    } else {
        g_leaders.erase(pid);
    }
}

void JobProcesses::kill_all() {
    if (leader_ <= 0) {
        return;
    }
    for (int round = 0; round < kMaxScanRounds; ++round) {
        auto entries = scan_processes();
        std::vector<pid_t> fresh;
        for (pid_t pid : job_members(entries, leader_)) {
            bool known = std::any_of(killed_.begin(), killed_.end(),
                                     [&](const Killed& k) { return k.pid == pid; });
            auto entry = std::find_if(entries.begin(), entries.end(),
                                      [&](const ProcessEntry& e) { return e.pid == pid; });
            bool zombie = entry != entries.end() && entry->zombie;
            if (!known && (!zombie || pid != leader_)) {
                fresh.push_back(pid);
            }
        }
        // The group too, whatever /proc showed; after the scan, like the rest.
        ::killpg(leader_, SIGKILL);
        if (fresh.empty()) {
            return;
        }
        // Everything found is killed together, after the scan: killing a parent first would
        // reparent its children out of sight before they are looked at.
        for (pid_t pid : fresh) {
            util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
            if (!pidfd.valid()) {
                if (errno == ESRCH) {
                    continue;  // gone already
                }
                ::kill(pid, SIGKILL);  // no pidfds: a plain kill, as killpg does
                continue;
            }
            ::fcntl(pidfd.get(), F_SETFD, FD_CLOEXEC);
            ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
            killed_.push_back(Killed{pid, std::move(pidfd)});
        }
    }
}

bool JobProcesses::wait_all(std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    bool all_gone = true;
    for (auto& k : killed_) {
        if (!k.pidfd.valid()) {
            continue;
        }
        // A pidfd is readable once its process has exited (a zombie counts: it runs no more).
        for (;;) {
            pollfd p{k.pidfd.get(), POLLIN, 0};
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
            if (n > 0) {
                break;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            all_gone = false;
            break;
        }
    }
    // Reaped only once all have exited: a process reparented to us when its parent died is our
    // child only from then on. Ours to reap when it is our child (an orphan reparented to a
    // subreaper); otherwise its parent reaps it.
    for (auto& k : killed_) {
        if (k.pidfd.valid() && k.pid != leader_) {
            siginfo_t info{};
            while (::waitid(P_PIDFD, static_cast<id_t>(k.pidfd.get()), &info, WEXITED | WNOHANG) <
                       0 &&
                   errno == EINTR) {
            }
        }
    }
    return all_gone;
}

}  // namespace arunner::exec
