#include "util/clock.hpp"

namespace arunner::util {

namespace {

class SteadyClock final : public Clock {
  public:
    time_point now() const override { return std::chrono::steady_clock::now(); }
    int poll(pollfd* fds, nfds_t count, int timeout_ms) override {
        return ::poll(fds, count, timeout_ms);
    }
};

}  // namespace

Clock& steady_clock() {
    static SteadyClock clock;
    return clock;
}

}  // namespace arunner::util
