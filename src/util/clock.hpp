#pragma once
// The monotonic clock and the one blocking wait the supervisor and the engine client use,
// behind an interface so unit tests can drive timeouts without waiting for them
// (tests/support/fake_clock.hpp): a test of a 10-minute idle timeout takes no time and cannot
// be made flaky by a loaded machine.

#include <poll.h>

#include <chrono>

namespace arunner::util {

class Clock {
  public:
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;

    virtual ~Clock() = default;
    /// Now, on this clock.
    virtual time_point now() const = 0;
    /// poll(2) on `fds` for at most `timeout_ms` of this clock's time (-1: no limit): the
    /// number of ready fds, 0 when the time passed, -1 with errno set on failure (EINTR
    /// included: callers retry).
    virtual int poll(pollfd* fds, nfds_t count, int timeout_ms) = 0;
};

/// The real clock: std::chrono::steady_clock and ::poll. Shared, stateless, thread-safe.
Clock& steady_clock();

}  // namespace arunner::util
