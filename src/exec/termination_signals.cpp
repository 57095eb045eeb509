#include "exec/termination_signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace arunner::exec {
namespace {

std::atomic<int> g_write_fd{-1};
std::atomic<int> g_received{0};

void on_termination_signal(int signal) {
    int saved_errno = errno;
    g_received.store(signal);
    int fd = g_write_fd.load();
    if (fd >= 0) {
        char byte = 1;
        [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
    }
    errno = saved_errno;
}

}  // namespace

TerminationSignals::TerminationSignals() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        return;
    }
    read_end_.reset(fds[0]);
    write_end_.reset(fds[1]);
    g_received.store(0);
    g_write_fd.store(write_end_.get());
    struct sigaction action {};
    action.sa_handler = on_termination_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, &previous_int_);
    ::sigaction(SIGTERM, &action, &previous_term_);
    installed_ = true;
}

TerminationSignals::~TerminationSignals() {
    if (installed_) {
        ::sigaction(SIGINT, &previous_int_, nullptr);
        ::sigaction(SIGTERM, &previous_term_, nullptr);
        g_write_fd.store(-1);
    }
}

int TerminationSignals::received() const {
    return g_received.load();
}

}  // namespace arunner::exec
