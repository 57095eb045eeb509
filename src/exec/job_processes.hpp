#pragma once
// Every process of a local job, found and killed as a whole: the child's process group and
// session, every descendant of the child (also those that called setsid() or left the group),
// and, when arunner made this process a child subreaper, the orphans the kernel reparented to
// it. Killing goes through pidfds (no signal can hit a reused pid) and the caller can then wait
// until each of them has really exited, so a canceled job is gone when arunner returns.
//
// The subreaper is a process-wide setting (prctl PR_SET_CHILD_SUBREAPER). The arunner binary
// sets it at start (src/cli/main.cpp): a descendant that double-forked away from the job is then
// reparented to arunner instead of init, so it can still be found, killed and reaped. The
// library never sets it by itself, because it would make the embedding program the parent of
// every orphan of every child it has, arunner's or not. A program embedding the library may call
// become_subreaper() when every child process it has is a job arunner runs; without it a job's
// double-forked descendants whose parent is already gone are out of arunner's reach (the process
// group, the session and the live descendants are still killed).

#include <sys/types.h>

#include <chrono>
#include <vector>

#include "util/unique_fd.hpp"

namespace arunner::exec {

/// Makes this process a child subreaper and remembers that arunner did so (only then are the
/// orphans reparented to it counted as a job's). False when the kernel refuses.
bool become_subreaper();

/// Records that `pid` is (or, with alive = false, no longer is) the leader of a job this process
/// spawned, so another job's kill never counts it as an orphan. Thread-safe.
void note_job_leader(pid_t pid, bool alive);

/// The processes of one job, killed and waited for as a whole.
class JobProcesses {
  public:
    /// `leader` is the job's child, leader of its own session and process group.
    explicit JobProcesses(pid_t leader) : leader_(leader) {}

    /// Sends SIGKILL to every process of the job that is alive, scanning /proc until a scan
    /// finds nobody new (a process may fork while the others are being killed). Safe to call
    /// again: processes already killed are not signalled twice.
    void kill_all();

    /// Waits until every process kill_all() signalled has exited (at most `limit`, for a process
    /// stuck in the kernel) and reaps those that are this process's children, except the
    /// leader, which its ChildProcess reaps. True when all of them are gone.
    bool wait_all(std::chrono::milliseconds limit);

  private:
    struct Killed {
        pid_t pid;
        util::UniqueFd pidfd;
    };
    pid_t leader_;
    std::vector<Killed> killed_;
};

}  // namespace arunner::exec
