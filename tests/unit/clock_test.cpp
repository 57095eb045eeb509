// src/util/clock.cpp: the real clock behind the injectable Clock interface (the fake one is
// tests/support/fake_clock.hpp). Asserts what poll reports, never how long anything took.

#include "util/clock.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

namespace arunner::util {
namespace {

struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() { EXPECT_EQ(::pipe(fds), 0); }
    ~Pipe() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

TEST(Clock, SteadyClockIsOneSharedClockThatNeverGoesBack) {
    Clock& clock = steady_clock();
    EXPECT_EQ(&clock, &steady_clock());
    auto first = clock.now();
    auto second = clock.now();
    EXPECT_LE(first, second);
}

TEST(Clock, PollReportsAReadableFd) {
    Pipe pipe;
    ASSERT_EQ(::write(pipe.fds[1], "x", 1), 1);
    pollfd fd{pipe.fds[0], POLLIN, 0};
    EXPECT_EQ(steady_clock().poll(&fd, 1, -1), 1);
    EXPECT_TRUE(fd.revents & POLLIN);
}

TEST(Clock, PollWithNothingReadyAndNoTimeReturnsZero) {
    Pipe pipe;
    pollfd fd{pipe.fds[0], POLLIN, 0};
    EXPECT_EQ(steady_clock().poll(&fd, 1, 0), 0);
}

TEST(Clock, PollReportsAClosedWriter) {
    Pipe pipe;
    ::close(pipe.fds[1]);
    pipe.fds[1] = -1;
    pollfd fd{pipe.fds[0], POLLIN, 0};
    EXPECT_EQ(steady_clock().poll(&fd, 1, -1), 1);
    EXPECT_TRUE(fd.revents & POLLHUP);
}

}  // namespace
}  // namespace arunner::util
