// TerminationSignals: while one exists, SIGINT, SIGTERM and SIGHUP ask for a cancel (its fd turns
// readable and received() names the signal) instead of ending the process; the handlers that were
// there before are back once the last one goes.

#include "exec/termination_signals.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

namespace arunner::exec {
namespace {

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

void previous_handler(int) {}

TEST(TerminationSignals, ASignalMakesTheFdReadableAndIsNamed) {
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
        TerminationSignals signals;
        ASSERT_GE(signals.fd(), 0);
        EXPECT_FALSE(readable(signals.fd()));
        EXPECT_EQ(signals.received(), 0);
        ASSERT_EQ(::raise(signal), 0);  // the handler runs before raise() returns
        EXPECT_TRUE(readable(signals.fd())) << signal;
        EXPECT_EQ(signals.received(), signal);
    }
}

TEST(TerminationSignals, EveryInstanceSeesTheSignal) {
    TerminationSignals first;
    TerminationSignals second;
    ASSERT_EQ(::raise(SIGTERM), 0);
    EXPECT_TRUE(readable(first.fd()));
    EXPECT_TRUE(readable(second.fd()));
}

TEST(TerminationSignals, ThePreviousHandlerIsBackWhenTheLastOneGoes) {
    struct sigaction mine {};
    mine.sa_handler = previous_handler;
    sigemptyset(&mine.sa_mask);
    struct sigaction saved {};
    ASSERT_EQ(::sigaction(SIGTERM, &mine, &saved), 0);
    {
        TerminationSignals first;
        { TerminationSignals second; }
        struct sigaction now {};
        ::sigaction(SIGTERM, nullptr, &now);
        EXPECT_NE(now.sa_handler, previous_handler) << "restored while an instance remains";
    }
    struct sigaction now {};
    ::sigaction(SIGTERM, nullptr, &now);
    EXPECT_EQ(now.sa_handler, previous_handler);
    ::sigaction(SIGTERM, &saved, nullptr);
}

TEST(TerminationSignals, AnIgnoredHangUpStaysIgnored) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    struct sigaction saved {};
    ASSERT_EQ(::sigaction(SIGHUP, &ignore, &saved), 0);
    {
        TerminationSignals signals;
        struct sigaction now {};
        ::sigaction(SIGHUP, nullptr, &now);
        EXPECT_EQ(now.sa_handler, SIG_IGN);  // nohup's choice is kept
    }
    ::sigaction(SIGHUP, &saved, nullptr);
}

}  // namespace
}  // namespace arunner::exec
