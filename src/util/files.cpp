#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/unique_fd.hpp"

namespace arunner::util {

Error errno_error(std::string_view what, const std::filesystem::path& path, int err) {
    return Error{std::string(what) + " " + path.string() + ": " + std::strerror(err)};
}

Result<std::string> read_file(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return errno_error("cannot open", path, errno);
    }
    std::string content;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno_error("cannot read", path, errno);
        }
        if (n == 0) {
            break;
        }
        content.append(buffer, static_cast<size_t>(n));
    }
    return content;
}

Status make_dirs(const std::filesystem::path& path, mode_t mode) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return {};
        }
        return Error{"cannot create directory " + path.string() + ": a file is in the way"};
    }
    if (path.has_parent_path() && path.parent_path() != path) {
        ARUNNER_TRY(make_dirs(path.parent_path(), mode));
    }
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
        return errno_error("cannot create directory", path, errno);
    }
    // mkdir's mode is filtered by the umask; ansible-runner's dirs are exactly 0700.
    if (::chmod(path.c_str(), mode) != 0) {
        return errno_error("cannot chmod", path, errno);
    }
    return {};
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

Status write_file(const std::filesystem::path& path, std::string_view content, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd.valid()) {
        return errno_error("cannot write", path, errno);
    }
    if (::fchmod(fd.get(), mode) != 0) {
        return errno_error("cannot chmod", path, errno);
    }
    if (!write_all(fd.get(), content)) {
        return errno_error("cannot write", path, errno);
    }
    return {};
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    ARUNNER_TRY(write_file(tmp, content, mode));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return errno_error("cannot rename into", path, err);
    }
    return {};
}

std::filesystem::path absolute_path(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(path, ec);
    if (ec) {
        abs = path;
    }
    abs = abs.lexically_normal();
    // lexically_normal keeps a trailing separator ("/a/b/"); os.path.abspath does not.
    std::string text = abs.string();
    while (text.size() > 1 && text.back() == '/') {
        text.pop_back();
    }
    return text;
}

std::filesystem::path executable_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return {};
    }
    return exe.parent_path();
}

}  // namespace arunner::util
