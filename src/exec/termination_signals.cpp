#include "exec/termination_signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace arunner::exec {
namespace {

// One pipe and one pair of handlers for the whole process, shared by every job that wants them
// (several jobs may run at once in a program using the library).
std::mutex g_mutex;
int g_users = 0;
int g_read_fd = -1;
std::atomic<int> g_write_fd{-1};
std::atomic<int> g_received{0};
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};
struct sigaction g_previous_hup {};

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
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_users == 0) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
            return;
        }
        g_read_fd = fds[0];
        g_write_fd.store(fds[1]);
        g_received.store(0);
        struct sigaction action {};
        action.sa_handler = on_termination_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        ::sigaction(SIGINT, &action, &g_previous_int);
        ::sigaction(SIGTERM, &action, &g_previous_term);
        // A dropped ssh session (the terminal hangs up) cancels like SIGTERM rather than killing
        // arunner with the job and its container left behind and no status written.
        // Under nohup SIGHUP is ignored on purpose: it stays so.
        ::sigaction(SIGHUP, nullptr, &g_previous_hup);
        if (g_previous_hup.sa_handler != SIG_IGN) {
            ::sigaction(SIGHUP, &action, nullptr);
        }
    }
    ++g_users;
    installed_ = true;
}

TerminationSignals::~TerminationSignals() {
    if (!installed_) {
        return;
    }
    std::lock_guard<std::mutex> lock(g_mutex);
    if (--g_users == 0) {
        ::sigaction(SIGINT, &g_previous_int, nullptr);
        ::sigaction(SIGTERM, &g_previous_term, nullptr);
        ::sigaction(SIGHUP, &g_previous_hup, nullptr);
        int write_fd = g_write_fd.exchange(-1);
        ::close(write_fd);
        ::close(g_read_fd);
        g_read_fd = -1;
    }
}

int TerminationSignals::fd() const {
    std::lock_guard<std::mutex> lock(g_mutex);
    return installed_ ? g_read_fd : -1;
}

int TerminationSignals::received() const {
    return g_received.load();
}

}  // namespace arunner::exec
