#pragma once
// A clock for unit tests: time moves only when the code under test would wait. poll() looks at
// the fds without blocking; when none is ready it advances the clock by the whole timeout and
// reports that the time passed. So a timeout fires after exactly its length of fake time, at
// once, however loaded the machine is. A poll with no timeout (-1) and nothing ready advances
// by `idle_step` (one minute by default) so a test can never hang on it.

#include <poll.h>

#include <atomic>
#include <chrono>

#include "util/clock.hpp"

namespace arunner::testing {

class FakeClock final : public util::Clock {
  public:
    time_point now() const override { return time_point(duration(ticks_.load())); }

    int poll(pollfd* fds, nfds_t count, int timeout_ms) override {
        ++polls_;
        int ready = ::poll(fds, count, 0);
        if (ready != 0 || timeout_ms == 0) {
            return ready;
        }
        advance(timeout_ms < 0 ? idle_step : std::chrono::milliseconds(timeout_ms));
        return 0;
    }

    /// Moves the clock forward.
    void advance(duration d) { ticks_ += d.count(); }
    /// How many times the code under test waited.
    int polls() const { return polls_.load(); }

    std::chrono::milliseconds idle_step{60'000};

  private:
    std::atomic<duration::rep> ticks_{duration(std::chrono::hours(1)).count()};
    std::atomic<int> polls_{0};
};

}  // namespace arunner::testing
