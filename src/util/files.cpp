#include "util/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

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
    UniqueFd fd(::open(path.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode));
    if (!fd.valid()) {
        return errno_error("cannot write", path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return errno_error("cannot fstat", path, errno);
    }
    if (S_ISREG(st.st_mode) && ::fchmod(fd.get(), mode) != 0) {
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

bool path_exists(const std::filesystem::path& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
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

Result<UniqueFd> open_dir_at(int dir_fd, const std::filesystem::path& name,
                             const std::filesystem::path& shown) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        int err = errno;
        struct stat st {};
        // With O_DIRECTORY a symlink at the name gives ENOTDIR, not ELOOP.
        if (err == ELOOP ||
            (err == ENOTDIR && ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISLNK(st.st_mode))) {
            return Error{"cannot open directory " + shown.string() +
                         ": it is a symlink, which arunner does not follow there"};
        }
        return errno_error("cannot open directory", shown, err);
    }
    return fd;
}

Result<UniqueFd> make_dir_at(int dir_fd, const std::string& name, mode_t mode,
                             const std::filesystem::path& shown) {
    bool made = ::mkdirat(dir_fd, name.c_str(), mode) == 0;
    if (!made && errno != EEXIST) {
        return errno_error("cannot create directory", shown, errno);
    }
    auto fd = open_dir_at(dir_fd, name, shown);
    if (fd && made && ::fchmod(fd->get(), mode) != 0) {  // mkdir's mode went through the umask
        return errno_error("cannot chmod", shown, errno);
    }
    return fd;
}

bool umask_strips(mode_t mode) {
    static const mode_t mask = [] {
        // Read from /proc: umask() would have to set it to read it, racing other threads.
        auto status = read_file("/proc/self/status");
        if (!status) {
            return static_cast<mode_t>(0777);
        }
        size_t at = status->find("\nUmask:\t");
        if (at == std::string::npos) {
            return static_cast<mode_t>(0777);
        }
        unsigned value = 0;
        const char* first = status->data() + at + 8;
        auto r = std::from_chars(first, status->data() + status->size(), value, 8);
        return r.ec == std::errc() ? static_cast<mode_t>(value) : static_cast<mode_t>(0777);
    }();
    return (mask & mode) != 0;
}

Result<UniqueFd> create_file_at(int dir_fd, const std::string& name, mode_t mode,
                                const std::filesystem::path& shown, int extra_flags) {
    const int flags =
        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | extra_flags;
    UniqueFd fd(::openat(dir_fd, name.c_str(), flags, mode));
    if (!fd.valid() && errno == EEXIST) {
        // Whatever is there (an older file, a planted symlink or FIFO) is replaced, never opened.
        if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
            return errno_error("cannot replace", shown, errno);
        }
        fd.reset(::openat(dir_fd, name.c_str(), flags, mode));
    }
    if (!fd.valid()) {
        return errno_error("cannot create", shown, errno);
    }
    if (umask_strips(mode) && ::fchmod(fd.get(), mode) != 0) {
        int err = errno;
        ::unlinkat(dir_fd, name.c_str(), 0);
        return errno_error("cannot chmod", shown, err);
    }
    return fd;
}

Status write_file_at(int dir_fd, const std::string& name, std::string_view content, mode_t mode,
                     const std::filesystem::path& shown) {
    ARUNNER_ASSIGN_OR_RETURN(auto fd, create_file_at(dir_fd, name, mode, shown));
    if (!write_all(fd.get(), content) || ::close(fd.release()) != 0) {
        int err = errno;
        ::unlinkat(dir_fd, name.c_str(), 0);
        return errno_error("cannot write", shown, err);
    }
    return {};
}

Status write_file_atomic_at(int dir_fd, const std::string& name, std::string_view content,
                            mode_t mode, const std::filesystem::path& shown) {
    const std::string tmp = name + ".tmp";
    std::filesystem::path shown_tmp = shown;
    shown_tmp += ".tmp";
    ARUNNER_TRY(write_file_at(dir_fd, tmp, content, mode, shown_tmp));
    if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
        int err = errno;
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        return errno_error("cannot rename into", shown, err);
    }
    return {};
}

Result<std::vector<std::string>> list_dir_at(int dir_fd, const std::filesystem::path& shown) {
    UniqueFd copy(::dup(dir_fd));
    if (!copy.valid()) {
        return errno_error("cannot list", shown, errno);
    }
    DIR* stream = ::fdopendir(copy.get());
    if (stream == nullptr) {
        return errno_error("cannot list", shown, errno);
    }
    copy.release();
    std::unique_ptr<DIR, int (*)(DIR*)> closer(stream, ::closedir);
    ::rewinddir(stream);  // the dup shares its offset with dir_fd
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        dirent* ent = ::readdir(stream);
        if (ent == nullptr) {
            if (errno != 0) {
                return errno_error("cannot list", shown, errno);
            }
            break;
        }
        std::string_view n = ent->d_name;
        if (n != "." && n != "..") {
            names.emplace_back(n);
        }
    }
    return names;
}

namespace {

/// How deep remove_tree_at descends holding one open directory per level; a directory found
/// deeper is moved up to the top of the tree first (see below).
constexpr size_t kRemoveDepth = 64;

/// One directory being emptied: its stream and its name in the level above.
struct Level {
    std::unique_ptr<DIR, int (*)(DIR*)> stream{nullptr, ::closedir};
    std::string name;
    bool rescanned = false;
};

Result<Level> open_level(int parent_fd, const std::string& name,
                         const std::filesystem::path& shown) {
    ARUNNER_ASSIGN_OR_RETURN(auto fd, open_dir_at(parent_fd, name, shown));
    ::fchmod(fd.get(), 0700);  // a read-only dir can still be emptied
    DIR* stream = ::fdopendir(fd.get());
    if (stream == nullptr) {
        return errno_error("cannot list", shown, errno);
    }
    fd.release();
    Level level;
    level.stream.reset(stream);
    level.name = name;
    return level;
}

}  // namespace

// Iterative, with at most kRemoveDepth directories open: a tree of any depth (a job can make one
// a million levels deep) neither overflows the stack nor runs out of descriptors. A directory
// met at that depth is renamed into the top directory under a fresh name and emptied from
// there later; renaming within the tree never leaves it. Nothing is followed: symlinks are
// unlinked, directories opened with O_NOFOLLOW.
Status remove_tree_at(int dir_fd, const std::string& name, const std::filesystem::path& shown) {
    if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) {
        return {};
    }
    if (errno != EISDIR && errno != EPERM) {
        return errno_error("cannot remove", shown, errno);
    }
    auto top = open_level(dir_fd, name, shown);
    if (!top) {
        return errno == ENOENT ? Status() : Status(top.error());
    }
    std::vector<Level> stack;
    stack.push_back(std::move(*top));
    const int top_fd = ::dirfd(stack.front().stream.get());
    unsigned long moved = 0;
    while (!stack.empty()) {
        Level& level = stack.back();
        DIR* stream = level.stream.get();
        errno = 0;
        dirent* ent = ::readdir(stream);
        if (ent == nullptr) {
            if (errno != 0) {
                return errno_error("cannot list", shown, errno);
            }
            // Entries may be missed while the directory changes under the stream (moves into the
            // top one): it is read once more before it is removed.
            if (!level.rescanned) {
                level.rescanned = true;
                ::rewinddir(stream);
                continue;
            }
            const std::string done = level.name;
            stack.pop_back();
            const int parent = stack.empty() ? dir_fd : ::dirfd(stack.back().stream.get());
            if (::unlinkat(parent, done.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
                return errno_error("cannot remove", shown, errno);
            }
            continue;
        }
        const std::string_view entry = ent->d_name;
        if (entry == "." || entry == "..") {
            continue;
        }
        const std::string child(entry);
        const int here = ::dirfd(stream);
        if (::unlinkat(here, child.c_str(), 0) == 0 || errno == ENOENT) {
            continue;
        }
        if (errno != EISDIR && errno != EPERM) {
            return errno_error("cannot remove", shown / child, errno);
        }
        if (::unlinkat(here, child.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
            continue;  // an empty directory
        }
        if (stack.size() >= kRemoveDepth) {
            const std::string flat = ".arunner-removing-" + std::to_string(moved++);
            if (::renameat(here, child.c_str(), top_fd, flat.c_str()) != 0) {
                return errno_error("cannot move up for removal", shown / child, errno);
            }
            stack.front().rescanned = false;
            continue;
        }
        ARUNNER_ASSIGN_OR_RETURN(auto sub, open_level(here, child, shown / child));
        stack.push_back(std::move(sub));
    }
    return {};
}

Status remove_tree(const std::filesystem::path& path) {
    return remove_tree_at(AT_FDCWD, path.string(), path);
}

namespace {

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string find_executable(const std::string& name, const std::string& path_variable) {
    if (name.empty()) {
        return {};
    }
    if (name.find('/') != std::string::npos) {
        return is_executable_file(name) ? name : std::string();
    }
    size_t start = 0;
    while (start <= path_variable.size()) {
        size_t end = path_variable.find(':', start);
        if (end == std::string::npos) {
            end = path_variable.size();
        }
        std::string dir = path_variable.substr(start, end - start);
        std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
        if (is_executable_file(candidate)) {
            return candidate;
        }
        start = end + 1;
    }
    return {};
}

}  // namespace arunner::util
