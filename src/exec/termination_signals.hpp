#pragma once
// ansible-runner's default cancel handler: while a run is in progress, SIGINT and SIGTERM do not
// kill the runner; they ask for the job to be canceled, so the child's whole process group is
// killed and the artifacts say `canceled`.

#include <signal.h>

#include "util/unique_fd.hpp"

namespace arunner::exec {

/// Catches SIGINT and SIGTERM for its lifetime and restores the previous handlers after.
/// Only one may exist at a time in a process (the handler writes to a process-wide pipe).
class TerminationSignals {
  public:
    TerminationSignals();
    ~TerminationSignals();
    TerminationSignals(const TerminationSignals&) = delete;
    TerminationSignals& operator=(const TerminationSignals&) = delete;

    /// Readable once SIGINT or SIGTERM has arrived; -1 if the handlers could not be installed.
    int fd() const { return read_end_.get(); }
    /// The signal that arrived (SIGINT or SIGTERM), 0 if none yet.
    int received() const;

  private:
    util::UniqueFd read_end_;
    util::UniqueFd write_end_;
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
    bool installed_ = false;
};

}  // namespace arunner::exec
