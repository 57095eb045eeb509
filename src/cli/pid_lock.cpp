#include "cli/pid_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "util/files.hpp"
#include "util/strings.hpp"

namespace arunner::cli {
namespace {

// inspect_pid_file() tests the lock by taking it shared for an instant, so an exclusive lock may
// be refused for that instant although no daemon holds it: it is asked again for a while.
constexpr int kLockAttempts = 50;
constexpr auto kLockRetryPause = std::chrono::milliseconds(20);

/// The pid written in the file, if it holds one.
std::optional<pid_t> read_pid(int fd) {
    char buffer[64];
    ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
        return std::nullopt;
    }
    auto pid = util::parse_int<pid_t>(util::trim(std::string_view(buffer, static_cast<size_t>(n))));
    if (!pid || *pid <= 0) {
        return std::nullopt;
    }
    return pid;
}

/// Whether `fd` is still the file at `path` (a daemon that ended, or stop, may have removed or
/// replaced it between our open and our lock).
bool is_file_at(int fd, const std::filesystem::path& path) {
    struct stat opened {};
    struct stat named {};
    return ::fstat(fd, &opened) == 0 && ::lstat(path.c_str(), &named) == 0 &&
           opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

Status check_regular(int fd, const std::filesystem::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return util::errno_error("cannot stat", path, errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return Error{path.string() + " is not a regular file"};
    }
    return {};
}

/// Takes the exclusive lock; false when someone keeps holding it.
Result<bool> lock_exclusive(int fd, const std::filesystem::path& path) {
    for (int attempt = 0;; ++attempt) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            return true;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EWOULDBLOCK) {
            return util::errno_error("cannot lock", path, errno);
        }
        if (attempt + 1 == kLockAttempts) {
            return false;
        }
        std::this_thread::sleep_for(kLockRetryPause);
    }
}

}  // namespace

Result<PidFileState> inspect_pid_file(const std::filesystem::path& path) {
    PidFileState state;
    util::UniqueFd fd(
        ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) {
        if (errno == ENOENT) {
            return state;
        }
        return util::errno_error("cannot open", path, errno);
    }
    state.exists = true;
    ARUNNER_TRY(check_regular(fd.get(), path));
    // A shared lock is refused only while the daemon holds its exclusive one; taken, it is
    // dropped at once.
    int locked = 0;
    while ((locked = ::flock(fd.get(), LOCK_SH | LOCK_NB)) != 0 && errno == EINTR) {
    }
    if (locked == 0) {
        ::flock(fd.get(), LOCK_UN);
    } else if (errno == EWOULDBLOCK) {
        state.locked = true;
    } else {
        return util::errno_error("cannot test the lock of", path, errno);
    }
    state.pid = read_pid(fd.get());
    return state;
}

Result<PidLock> PidLock::acquire(const std::filesystem::path& path) {
    // Retried when the file was removed or replaced while we waited for its lock.
    for (;;) {
        util::UniqueFd fd(::open(
            path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0644));
        if (!fd.valid()) {
            return util::errno_error("cannot open", path, errno);
        }
        ARUNNER_TRY(check_regular(fd.get(), path));
        ARUNNER_ASSIGN_OR_RETURN(bool locked, lock_exclusive(fd.get(), path));
        if (!locked) {
            std::optional<pid_t> pid = read_pid(fd.get());
            return Error{"a daemon" + (pid ? " (pid " + std::to_string(*pid) + ")" : "") +
                         " is already running a job in " + path.parent_path().string() +
                         ": it holds the lock of " + path.string()};
        }
        if (!is_file_at(fd.get(), path)) {
            continue;
        }
        // Emptied at once: while locked, the file never shows the pid of a dead daemon.
        if (::ftruncate(fd.get(), 0) != 0) {
            return util::errno_error("cannot write", path, errno);
        }
        return PidLock(path, std::move(fd));
    }
}

std::optional<PidLock> PidLock::take_over(const std::filesystem::path& path, pid_t pid) {
    util::UniqueFd fd(
        ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid() || !check_regular(fd.get(), path)) {
        return std::nullopt;
    }
    auto locked = lock_exclusive(fd.get(), path);
    if (!locked || !*locked || !is_file_at(fd.get(), path) || read_pid(fd.get()) != pid) {
        return std::nullopt;
    }
    return PidLock(path, std::move(fd));
}

Status PidLock::write_pid(pid_t pid) {
    std::string text = std::to_string(pid) + "\n";
    if (::ftruncate(fd_.get(), 0) != 0 ||
        ::pwrite(fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        return util::errno_error("cannot write", path_, errno);
    }
    return {};
}

void PidLock::remove() {
    if (fd_.valid() && is_file_at(fd_.get(), path_)) {
        ::unlink(path_.c_str());
    }
    fd_.reset();  // releases the lock, once the file is gone
}

}  // namespace arunner::cli
