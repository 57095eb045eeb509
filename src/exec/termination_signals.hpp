#pragma once
// ansible-runner's default cancel handler: while a run is in progress, SIGINT and SIGTERM do not
// kill the runner; they ask for the job to be canceled, so the child's whole process group is
// killed and the artifacts say `canceled`. SIGHUP (a dropped ssh session) is handled the same
// way, so a hang-up never leaves the job or its container behind without a status.

#include <signal.h>

namespace arunner::exec {

/// Catches SIGINT, SIGTERM and SIGHUP while at least one instance exists (any thread may create
/// one; instances share one process-wide pipe and handler) and restores the previous handlers when
/// the last one goes.
class TerminationSignals {
  public:
    TerminationSignals();
    ~TerminationSignals();
    TerminationSignals(const TerminationSignals&) = delete;
    TerminationSignals& operator=(const TerminationSignals&) = delete;

    /// Readable once one of them has arrived (it is never drained, so every job watching
    /// it sees it); -1 if the handlers could not be installed.
    int fd() const;
    /// The signal that arrived (SIGINT, SIGTERM or SIGHUP), 0 if none yet.
    int received() const;

  private:
    bool installed_ = false;
};

}  // namespace arunner::exec
