#include "exec/secret_fifo.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "util/files.hpp"

namespace arunner::exec {
namespace {

// While no reader has the FIFO open, opening it for writing without blocking fails with ENXIO
// and is tried again after this long, growing up to the maximum (ssh-add, blocked in its own
// open, then waits at most that long).
constexpr std::chrono::milliseconds kFirstRetry{2};
constexpr std::chrono::milliseconds kMaxRetry{50};

/// Clears the thread's pending SIGPIPE, raised by a write to a FIFO whose reader left (the
/// writer thread blocks it, so it stays pending on that thread instead of ending the process).
void consume_sigpipe() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    timespec zero{};
    while (::sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
}

}  // namespace

Result<std::unique_ptr<SecretFifo>> SecretFifo::create(int dir_fd, const std::string& name,
                                                       std::string secret) {
    util::UniqueFd dir(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
    if (!dir.valid()) {
        return util::errno_error("cannot duplicate the directory fd for", name, errno);
    }
    // One left by a run that was killed (SIGKILL) before it could remove it: a rerun of the
    // ident replaces it. A directory stays, and fails below.
    ::unlinkat(dir.get(), name.c_str(), 0);
    if (::mkfifoat(dir.get(), name.c_str(), 0600) != 0) {
        return util::errno_error("cannot create the FIFO", name, errno);
    }
    // Held (O_PATH: neither reader nor writer) until the end, so that its inode number cannot
    // be given to a file a job puts in its place: the identity check below is then sound.
    util::UniqueFd pin(::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!pin.valid() || ::fstat(pin.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) {
        int err = errno;
        ::unlinkat(dir.get(), name.c_str(), 0);
        return util::errno_error("cannot look at the FIFO", name, err);
    }
    util::UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop.valid()) {
        int err = errno;
        ::unlinkat(dir.get(), name.c_str(), 0);
        return util::errno_error("cannot create an eventfd for", name, err);
    }
    std::unique_ptr<SecretFifo> fifo(new SecretFifo(std::move(dir), std::move(pin), name,
                                                    std::move(secret), st.st_dev, st.st_ino,
                                                    std::move(stop)));
    fifo->thread_ = std::thread([raw = fifo.get()] { raw->run(); });
    return fifo;
}

SecretFifo::SecretFifo(util::UniqueFd dir, util::UniqueFd pin, std::string name, std::string secret,
                       dev_t dev, ino_t ino, util::UniqueFd stop)
    : dir_(std::move(dir)),
      pin_(std::move(pin)),
      name_(std::move(name)),
      secret_(std::move(secret)),
      dev_(dev),
      ino_(ino),
      stop_(std::move(stop)) {}

SecretFifo::~SecretFifo() {
    stop();
}

void SecretFifo::stop() {
    if (thread_.joinable()) {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
        thread_.join();
    }
    if (!dir_.valid()) {
        return;
    }
    // Removed only while it is still the FIFO made here (the job's `rm -f` usually came first).
    struct stat st {};
    if (::fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISFIFO(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_) {
        ::unlinkat(dir_.get(), name_.c_str(), 0);
    }
    dir_.reset();
    pin_.reset();
    // The secret is no longer needed here.
    std::fill(secret_.begin(), secret_.end(), '\0');
}

SecretFifo::Outcome SecretFifo::wait(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    ended_.wait_for(lock, limit, [this] { return outcome_ != Outcome::waiting; });
    return outcome_;
}

SecretFifo::Outcome SecretFifo::outcome() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return outcome_;
}

bool SecretFifo::stop_requested(std::chrono::milliseconds timeout) const {
    pollfd p{stop_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    return n > 0;
}

void SecretFifo::finish(Outcome outcome) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        outcome_ = outcome;
    }
    ended_.notify_all();
}

void SecretFifo::run() {
    // A write after the reader left raises SIGPIPE on this thread: blocked here, and cleared.
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
    finish(write_secret());
    consume_sigpipe();
}

SecretFifo::Outcome SecretFifo::write_secret() {
    util::UniqueFd fifo;
    auto retry = kFirstRetry;
    for (;;) {
        fifo.reset(::openat(dir_.get(), name_.c_str(),
                            O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
        if (fifo.valid()) {
            break;
        }
        if (errno == ELOOP || errno == ENOENT) {
            return Outcome::replaced;  // a symlink now, or gone before anyone read it
        }
        if (errno != ENXIO && errno != EINTR) {
            return Outcome::failed;
        }
        if (stop_requested(retry)) {
            return Outcome::stopped;
        }
        retry = std::min(retry * 2, kMaxRetry);
    }
    // Opening another kind of file (a regular file put in its place) may succeed: the secret goes
    // only to the FIFO created here.
    struct stat st {};
    if (::fstat(fifo.get(), &st) != 0 || !S_ISFIFO(st.st_mode) || st.st_dev != dev_ ||
        st.st_ino != ino_) {
        return Outcome::replaced;
    }
    size_t done = 0;
    while (done < secret_.size()) {
        ssize_t n = ::write(fifo.get(), secret_.data() + done, secret_.size() - done);
        if (n > 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            // The reader has not drained the pipe yet (a secret beyond the pipe's capacity).
            pollfd p[2] = {{fifo.get(), POLLOUT, 0}, {stop_.get(), POLLIN, 0}};
            if (::poll(p, 2, -1) > 0 && (p[1].revents & POLLIN) != 0) {
                return Outcome::stopped;
            }
            continue;
        }
        return Outcome::failed;  // EPIPE: the reader left
    }
    return Outcome::delivered;
}

}  // namespace arunner::exec
