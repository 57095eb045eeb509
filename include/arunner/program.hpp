#pragma once
// What a program that runs jobs may set up for its whole process (the arunner binary does all of
// it at start). The library never does any of this by itself: each choice belongs to the program.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace arunner {

/// Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): a job's descendants that
/// double-fork away are reparented here instead of to init, so a cancel or timeout still finds,
/// kills and reaps them (docs/orphans.md). Only for a program whose every child is a job arunner
/// runs. False when the kernel refuses.
bool become_subreaper();

/// Where the library's one-line notices go ("started podman system service on …"); they are
/// dropped when none is set. Called from any thread.
void set_notice_handler(std::function<void(const std::string& line)> handler);

/// While one exists, SIGINT, SIGTERM and SIGHUP cancel the jobs running in this process instead
/// of killing it, also a signal that arrives before a job starts (the previous handlers come back
/// when the last one goes). Runner installs one around each job of its own; a program holds one
/// to cover the time before.
class TerminationSignalGuard {
  public:
    TerminationSignalGuard();
    ~TerminationSignalGuard();
    TerminationSignalGuard(const TerminationSignalGuard&) = delete;
    TerminationSignalGuard& operator=(const TerminationSignalGuard&) = delete;

  private:
    struct Handlers;
    std::unique_ptr<Handlers> handlers_;
};

/// SIGKILLs `pid` and every descendant it has, at any depth, in any session, and waits at most
/// `wait` until all are gone. True when they are.
bool kill_process_tree(pid_t pid, std::chrono::milliseconds wait);

}  // namespace arunner
