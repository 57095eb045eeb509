#include "util/read_beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/unique_fd.hpp"

namespace arunner::util {
namespace {

Error read_error(const std::string& shown, const std::string& why) {
    return Error{"cannot read " + shown + ": " + why};
}

/// An O_PATH descriptor of `relative` beneath `dir_fd`, or -1 with errno. openat2's
/// RESOLVE_BENEATH refuses any step out of the directory (EXDEV); where openat2 is missing (an
/// old kernel, a seccomp profile that answers ENOSYS or EPERM) each component is opened with
/// O_NOFOLLOW, so any link at all is refused (ELOOP).
int open_path_beneath(int dir_fd, const std::string& relative) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) {
        return static_cast<int>(fd);
    }
    UniqueFd current(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
    size_t start = 0;
    while (current.valid()) {
        const size_t slash = relative.find('/', start);
        const std::string part = relative.substr(start, slash - start);
        if (part == "..") {
            errno = EXDEV;
            return -1;
        }
        int flags =
            O_PATH | O_NOFOLLOW | O_CLOEXEC | (slash == std::string::npos ? 0 : O_DIRECTORY);
        UniqueFd next(::openat(current.get(), part.empty() ? "." : part.c_str(), flags));
        if (!next.valid()) {
            return -1;
        }
        struct stat st {};
        if (::fstat(next.get(), &st) == 0 && S_ISLNK(st.st_mode)) {
            errno = ELOOP;
            return -1;
        }
        if (slash == std::string::npos) {
            return next.release();
        }
        current = std::move(next);
        start = slash + 1;
    }
    return -1;
}

/// Reads `fd` to EOF: at most `bounds.max_bytes`, and for a FIFO within `bounds.fifo_wait`.
Result<std::string> read_bounded(int fd, bool fifo, const std::string& shown,
                                 const ReadBounds& bounds) {
    std::string text;
    char buffer[65536];
    Clock& clock = bounds.clock != nullptr ? *bounds.clock : steady_clock();
    const auto deadline = clock.now() + bounds.fifo_wait;
    bool writer_seen = false;
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n > 0) {
            writer_seen = true;
            if (text.size() + static_cast<size_t>(n) > bounds.max_bytes) {
                return read_error(shown, "larger than " + std::to_string(bounds.max_bytes) +
                                             " bytes, more than arunner reads from such a file");
            }
            text.append(buffer, static_cast<size_t>(n));
            continue;
        }
        // A FIFO read without a writer gives 0 before one has come (Linux keeps a fresh FIFO
        // without POLLHUP until its first writer has gone), so EOF counts only once data came.
        if (n == 0 && (!fifo || writer_seen)) {
            return text;
        }
        if (n < 0 && errno != EAGAIN) {
            return read_error(shown, std::strerror(errno));
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.now());
        if (left.count() <= 0) {
            return read_error(shown, "a FIFO that no writer finished within " +
                                         std::to_string(bounds.fifo_wait.count()) + " ms");
        }
        pollfd p{fd, POLLIN, 0};
        const int ready = clock.poll(&p, 1, static_cast<int>(left.count()));
        if (ready > 0 && (p.revents & POLLHUP) != 0 && (p.revents & POLLIN) == 0) {
            return text;  // the writer came, wrote nothing more and closed
        }
    }
}

}  // namespace

Result<std::optional<std::string>> read_file_beneath(int dir_fd, const std::string& relative,
                                                     const std::string& shown,
                                                     const ReadBounds& bounds) {
    if (relative.empty() || relative.front() == '/') {
        return read_error(shown, "internal: not a relative name");
    }
    UniqueFd path_fd(open_path_beneath(dir_fd, relative));
    if (!path_fd.valid()) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR) {
            return std::optional<std::string>();
        }
        if (err == EXDEV) {
            return read_error(shown,
                              "a link that leads out of its directory; arunner follows no link "
                              "out of a directory a job can write to");
        }
        return read_error(shown, std::strerror(err));
    }
    struct stat st {};
    if (::fstat(path_fd.get(), &st) != 0) {
        return read_error(shown, std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        return read_error(shown, std::strerror(EISDIR));
    }
    const bool fifo = S_ISFIFO(st.st_mode);
    if (!S_ISREG(st.st_mode) && !fifo) {
        return read_error(shown,
                          "not a regular file (a device or a socket); arunner reads only "
                          "regular files and FIFOs");
    }
    if (!fifo && static_cast<unsigned long long>(st.st_size) > bounds.max_bytes) {
        return read_error(shown, "larger than " + std::to_string(bounds.max_bytes) +
                                     " bytes, more than arunner reads from such a file");
    }
    // Reopened through the O_PATH descriptor: the very inode just checked, never a name that
    // could be swapped in between.
    const std::string self = "/proc/self/fd/" + std::to_string(path_fd.get());
    UniqueFd fd(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd.valid()) {
        return read_error(shown, std::strerror(errno));
    }
    ARUNNER_ASSIGN_OR_RETURN(std::string text, read_bounded(fd.get(), fifo, shown, bounds));
    return std::optional<std::string>(std::move(text));
}

Result<std::optional<std::string>> read_file_beneath(const std::string& dir,
                                                     const std::string& relative,
                                                     const std::string& shown,
                                                     const ReadBounds& bounds) {
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid()) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return std::optional<std::string>();
        }
        return read_error(shown, std::strerror(errno));
    }
    return read_file_beneath(dir_fd.get(), relative, shown, bounds);
}

}  // namespace arunner::util
