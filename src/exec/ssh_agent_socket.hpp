#pragma once
// The private socket of a run's ssh-agent, and the end of that agent (docs/ssh-keys.md).
//
// `ssh-agent -a SOCK COMMAND` forks: the agent is the child, calls setsid() and outlives the
// command by up to 10 s (it only then notices its parent is gone), out of the job's process
// group and, once the command exited, no longer a descendant of the job. It is found after the
// run by the socket it listens on: the inodes bound to SOCK in /proc/net/unix, then the
// processes holding one of them (/proc/<pid>/fd -> socket:[inode]). Each is killed through a
// pidfd and waited for; one that is this process's child (an orphan reparented to arunner as a
// subreaper) is reaped.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "arunner/error.hpp"

namespace arunner::exec {

/// A directory (0700) for one agent's socket; ending it ends the agent and removes both.
class SshAgentSocket {
  public:
    /// Creates `dir` (mode 0700; it must not exist yet: a directory someone else made first is
    /// refused) for the socket `dir/<socket_name>`.
    static Result<SshAgentSocket> create(const std::filesystem::path& dir,
                                         const std::string& socket_name);

    SshAgentSocket(SshAgentSocket&& other) noexcept;
    SshAgentSocket& operator=(SshAgentSocket&&) = delete;
    SshAgentSocket(const SshAgentSocket&) = delete;
    SshAgentSocket& operator=(const SshAgentSocket&) = delete;
    /// end().
    ~SshAgentSocket();

    const std::filesystem::path& socket_path() const { return socket_; }

    /// Kills every process listening on (or accepted from) the socket, waits at most `limit`
    /// for each to exit and reaps those that are this process's children, then removes the
    /// socket and the directory. The number of processes killed. Safe to call more than once.
    int end(std::chrono::milliseconds limit = std::chrono::seconds(30));

  private:
    SshAgentSocket(std::filesystem::path dir, std::filesystem::path socket)
        : dir_(std::move(dir)), socket_(std::move(socket)) {}

    std::filesystem::path dir_;
    std::filesystem::path socket_;
};

/// The processes that hold a unix socket bound to `path` (by /proc/net/unix and /proc/*/fd).
std::vector<pid_t> processes_on_unix_socket(const std::string& path);

}  // namespace arunner::exec
