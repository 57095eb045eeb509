#pragma once
// The pid file of a `start` daemon, PDD/pid: the daemon's pid as text ("4242\n", as
// ansible-runner's pid lock file, so its tooling can read it), and an exclusive flock on the
// file that the daemon holds for its whole life. The lock, not the pid, says whether the daemon
// lives: the kernel drops it when the daemon dies however it dies, so a pid file left by a killed
// daemon is seen as stale, and a pid that was reused by an unrelated process is never taken for
// the daemon (docs/daemon.md).

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::cli {

/// What a look at a pid file finds, without ever keeping its lock.
struct PidFileState {
    bool exists = false;
    /// A daemon holds the lock: it is alive.
    bool locked = false;
    /// The pid written in the file; nullopt when the file is empty or holds no pid (a daemon
    /// that has the lock but has not written its pid yet, or a file written by someone else).
    std::optional<pid_t> pid;
};

/// Looks at the pid file `path`. An error only when it exists but cannot be opened or read.
Result<PidFileState> inspect_pid_file(const std::filesystem::path& path);

/// The lock of a pid file, held: by `start` from before it forks (the daemon inherits it) to
/// the daemon's end.
class PidLock {
  public:
    /// Creates `path` (0644) or opens the one there and takes its lock. The pid file of a
    /// daemon that died (not locked) is taken over. Fails when a live daemon holds the lock: the
    /// error names its pid and the dir.
    static Result<PidLock> acquire(const std::filesystem::path& path);

    /// Takes the lock of the pid file at `path` if nobody holds it and it still names `pid`
    /// (a daemon killed by stop): nullopt otherwise.
    static std::optional<PidLock> take_over(const std::filesystem::path& path, pid_t pid);

    PidLock(PidLock&&) = default;
    PidLock& operator=(PidLock&&) = default;

    /// Replaces the file's content with `pid`.
    Status write_pid(pid_t pid);
    /// Removes the file (if it is still the one locked) and releases the lock.
    void remove();
    /// The locked descriptor (close-on-exec, so no job process inherits the lock).
    int fd() const { return fd_.get(); }

  private:
    PidLock(std::filesystem::path path, util::UniqueFd fd)
        : path_(std::move(path)), fd_(std::move(fd)) {}
    std::filesystem::path path_;
    util::UniqueFd fd_;
};

}  // namespace arunner::cli
