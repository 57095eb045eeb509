#include "exec/ssh_agent_socket.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/unique_fd.hpp"

namespace arunner::exec {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// The inodes of the sockets bound to `path`: the listening one and those it accepted.
/// /proc/net/unix: "Num RefCount Protocol Flags Type St Inode [Path]".
std::set<unsigned long> socket_inodes(const std::string& path) {
    std::set<unsigned long> inodes;
    std::ifstream table("/proc/net/unix");
    std::string line;
    std::getline(table, line);  // the header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string num, refs, protocol, flags, type, state, inode, bound;
        if (!(fields >> num >> refs >> protocol >> flags >> type >> state >> inode >> bound)) {
            continue;
        }
        if (bound != path) {
            continue;
        }
        if (auto number = util::parse_int<unsigned long>(inode)) {
            inodes.insert(*number);
        }
    }
    return inodes;
}

/// True when process `pid` has an fd on one of `inodes`.
bool holds_socket(pid_t pid, const std::set<unsigned long>& inodes) {
    std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* dir = ::opendir(fd_dir.c_str());
    if (dir == nullptr) {
        return false;  // gone, or not ours to look at
    }
    bool found = false;
    while (dirent* entry = ::readdir(dir)) {
        char target[64];
        ssize_t n = ::readlinkat(::dirfd(dir), entry->d_name, target, sizeof target - 1);
        if (n <= 0) {
            continue;
        }
        std::string_view link(target, static_cast<size_t>(n));
        if (!link.starts_with("socket:[") || !link.ends_with("]")) {
            continue;
        }
        auto inode = util::parse_int<unsigned long>(link.substr(8, link.size() - 9));
        if (inode && inodes.count(*inode) != 0) {
            found = true;
            break;
        }
    }
    ::closedir(dir);
    return found;
}

std::vector<pid_t> holders(const std::set<unsigned long>& inodes) {
    std::vector<pid_t> pids;
    if (inodes.empty()) {
        return pids;
    }
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) {
        return pids;
    }
    while (dirent* entry = ::readdir(proc)) {
        auto pid = util::parse_int<pid_t>(entry->d_name);
        if (pid && *pid > 0 && *pid != ::getpid() && holds_socket(*pid, inodes)) {
            pids.push_back(*pid);
        }
    }
    ::closedir(proc);
    return pids;
}

}  // namespace

std::vector<pid_t> processes_on_unix_socket(const std::string& path) {
    return holders(socket_inodes(path));
}

Result<SshAgentSocket> SshAgentSocket::create(const fs::path& dir, const std::string& socket_name) {
    if (::mkdir(dir.c_str(), 0700) != 0) {
        return util::errno_error("cannot create the ssh-agent socket directory", dir, errno);
    }
    return SshAgentSocket(dir, dir / socket_name);
}

SshAgentSocket::SshAgentSocket(SshAgentSocket&& other) noexcept
    : dir_(std::move(other.dir_)), socket_(std::move(other.socket_)) {
    other.dir_.clear();
    other.socket_.clear();
}

SshAgentSocket::~SshAgentSocket() {
    end();
}

int SshAgentSocket::end(std::chrono::milliseconds limit) {
    if (dir_.empty()) {
        return 0;
    }
    const auto deadline = Clock::now() + limit;
    const auto inodes = socket_inodes(socket_.string());
    int killed = 0;
    for (pid_t pid : holders(inodes)) {
        util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        // Checked again through the pidfd's process: a pid reused since the scan is left alone.
        if (!pidfd.valid() || !holds_socket(pid, inodes)) {
            continue;
        }
        if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0) {
            continue;
        }
        ++killed;
        // Readable once the process has exited (SIGKILL is asynchronous).
        for (;;) {
            pollfd p{pidfd.get(), POLLIN, 0};
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
            if (n >= 0 || errno != EINTR) {
                break;
            }
        }
        // Ours to reap only when it is our child (reparented to a subreaper arunner).
        siginfo_t info{};
        while (::waitid(P_PIDFD, static_cast<id_t>(pidfd.get()), &info, WEXITED | WNOHANG) < 0 &&
               errno == EINTR) {
        }
    }
    // The socket, and anything a job left there (any depth; links not followed).
    (void)util::remove_tree(dir_);
    dir_.clear();
    return killed;
}

}  // namespace arunner::exec
