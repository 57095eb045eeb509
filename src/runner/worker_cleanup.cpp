#include "runner/worker_cleanup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>

#include "util/files.hpp"
#include "util/temp_dir.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;

/// Directories no pattern may ever match.
bool is_system_dir(const fs::path& resolved) {
    static const std::set<std::string> kSystem = {
        "/",     "/bin",  "/boot", "/dev",  "/etc", "/home", "/lib", "/lib64", "/mnt", "/opt",
        "/proc", "/root", "/run",  "/sbin", "/srv", "/sys",  "/tmp", "/usr",   "/var"};
    if (kSystem.count(resolved.string()) != 0) {
        return true;
    }
    std::error_code ec;
    auto tmp = util::temp_dir();
    return tmp && resolved == fs::weakly_canonical(*tmp, ec);
}

/// The names in the open directory `dir_fd` (not "." and ".."), or an Error.
Result<std::vector<std::string>> list_dir(int dir_fd, const fs::path& display_path) {
    int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) {
        return util::errno_error("cannot list", display_path, errno);
    }
    DIR* dir = ::fdopendir(copy);
    if (dir == nullptr) {
        int err = errno;
        ::close(copy);
        return util::errno_error("cannot list", display_path, err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") {
            names.push_back(std::move(name));
        }
        errno = 0;
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) {
        return util::errno_error("cannot list", display_path, err);
    }
    return names;
}

/// A dir arunner or ansible-runner made for a job: env/, project/ or artifacts/ in it, or
/// nothing at all (a worker that failed before its job arrived).
bool is_private_data_dir(int dir_fd, const fs::path& path) {
    struct stat st {};
    for (const char* marker : {"env", "project", "artifacts"}) {
        if (::fstatat(dir_fd, marker, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            return true;
        }
    }
    auto names = list_dir(dir_fd, path);
    return names && names->empty();
}

/// Removes `name` in `parent_fd`: a directory as a tree, anything else (a symlink too) as itself.
Status remove_entry(int parent_fd, const std::string& name, const fs::path& display_path) {
    struct stat st {};
    if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) {
            return {};
        }
        return util::errno_error("cannot stat", display_path, errno);
    }
    if (S_ISDIR(st.st_mode)) {
        util::UniqueFd sub(
            ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) {
            return util::errno_error("cannot open", display_path, errno);
        }
        ARUNNER_TRY(empty_dir(sub.get(), display_path));
        sub.reset();
        if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
            return util::errno_error("cannot remove", display_path, errno);
        }
        return {};
    }
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
        return util::errno_error("cannot remove", display_path, errno);
    }
    return {};
}

}  // namespace

Status remove_locked_dir(const fs::path& path, int dir_fd) {
    ARUNNER_TRY(empty_dir(dir_fd, path));
    fs::path parent_path = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    util::UniqueFd parent(::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent.valid()) {
        return util::errno_error("cannot open", parent_path, errno);
    }
    struct stat held {};
    struct stat named {};
    if (::fstat(dir_fd, &held) != 0 ||
        ::fstatat(parent.get(), path.filename().c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        held.st_dev != named.st_dev || held.st_ino != named.st_ino) {
        return {};  // emptied; the name now belongs to something else, which stays
    }
    if (::unlinkat(parent.get(), path.filename().c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return util::errno_error("cannot remove", path, errno);
    }
    return {};
}

namespace {

/// One glob match and what phase one found out about it.
struct Match {
    fs::path path;
    util::UniqueFd lock;  // held from the check to the removal
    bool busy = false;
};

}  // namespace

DirLock lock_private_data_dir(const fs::path& dir, util::UniqueFd& fd) {
    fd.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        return errno == ENOENT ? DirLock::missing : DirLock::busy;
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        fd.reset();
        return DirLock::busy;
    }
    return DirLock::taken;
}

Status empty_dir(int dir_fd, const fs::path& display_path) {
    struct stat st {};
    if (::fstat(dir_fd, &st) != 0) {
        return util::errno_error("cannot stat", display_path, errno);
    }
    // A read-only dir (0555) inside a finished job: its entries can go once it is writable.
    if ((st.st_mode & S_IRWXU) != S_IRWXU && ::fchmod(dir_fd, (st.st_mode & 07777) | S_IRWXU)) {
        return util::errno_error("cannot make writable", display_path, errno);
    }
    ARUNNER_ASSIGN_OR_RETURN(auto names, list_dir(dir_fd, display_path));
    for (const auto& name : names) {
        ARUNNER_TRY(remove_entry(dir_fd, name, display_path / name));
    }
    return {};
}

Status remove_tree(const fs::path& path) {
    fs::path parent_path = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    util::UniqueFd parent(::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent.valid()) {
        if (errno == ENOENT) {
            return {};
        }
        return util::errno_error("cannot open", parent_path, errno);
    }
    return remove_entry(parent.get(), path.filename().string(), path);
}

std::string glob_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

Result<CleanupResult> cleanup_private_data_dirs(const CleanupOptions& options, std::FILE* out) {
    CleanupResult result;
    if (options.file_pattern.empty()) {
        return result;
    }
    ARUNNER_ASSIGN_OR_RETURN(const fs::path tmp_root, util::temp_dir());
    glob_t found{};
    int rc = ::glob(options.file_pattern.c_str(), GLOB_NOSORT, nullptr, &found);
    std::vector<Match> matches;
    if (rc == 0) {
        for (size_t i = 0; i < found.gl_pathc; ++i) {
            matches.push_back(Match{fs::path(found.gl_pathv[i]), {}, false});
        }
    }
    ::globfree(&found);

    // Refuse first, remove after: a bad pattern removes nothing at all. Each dir's lock is taken
    // here and held until it is removed, so no worker can start in it in between.
    std::vector<Match> kept;
    for (auto& match : matches) {
        std::error_code ec;
        fs::path resolved = fs::weakly_canonical(match.path, ec);
        if (is_system_dir(resolved)) {
            return Error{"Provided pattern could result in deleting system folders:\n" +
                         match.path.string() + "\nRefusing to continue for user system safety."};
        }
        struct stat st {};
        if (::lstat(match.path.c_str(), &st) != 0 && errno == ENOENT) {
            continue;  // gone since the glob
        }
        if (::lstat(match.path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
            return Error{"Provided pattern matches " + match.path.string() +
                         ", which is not a directory; refusing to remove anything"};
        }
        DirLock lock = lock_private_data_dir(match.path, match.lock);
        if (lock == DirLock::missing) {
            continue;
        }
        match.busy = lock == DirLock::busy;
        if (!match.busy && !is_private_data_dir(match.lock.get(), match.path)) {
            return Error{"Provided pattern matches " + match.path.string() +
                         ", which is not a private data dir (no env/, project/ or artifacts/ in "
                         "it); refusing to remove anything"};
        }
        kept.push_back(std::move(match));
    }
    const std::time_t now = std::time(nullptr);
    for (auto& match : kept) {
        const fs::path& path = match.path;
        bool excluded = false;
        for (const auto& s : options.exclude_strings) {
            excluded = excluded || path.string().find(s) != std::string::npos;
        }
        if (excluded) {
            continue;
        }
        struct stat st {};
        if (options.grace_period_minutes > 0 && ::stat(path.c_str(), &st) == 0 &&
            st.st_mtime > now - static_cast<std::time_t>(options.grace_period_minutes) * 60) {
            continue;
        }
        if (match.busy) {
            std::fprintf(out, "Excluding running project %s from cleanup\n", path.c_str());
            continue;
        }
        // Registry auth dirs of its jobs (docs/containers.md), named after their idents; an ident
        // is matched literally, so one named `*` cannot widen the pattern.
        util::UniqueFd artifacts(::openat(match.lock.get(), "artifacts",
                                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (artifacts.valid()) {
            auto idents = list_dir(artifacts.get(), path / "artifacts");
            for (const auto& ident : idents ? *idents : std::vector<std::string>()) {
                std::string pattern =
                    glob_escape((tmp_root / "ansible_runner_registry_").string() + ident) + "_*";
                glob_t auth{};
                if (::glob(pattern.c_str(), 0, nullptr, &auth) == 0) {
                    for (size_t i = 0; i < auth.gl_pathc; ++i) {
                        if (remove_tree(auth.gl_pathv[i])) {
                            std::fprintf(out, "Removed associated registry auth dir %s\n",
                                         auth.gl_pathv[i]);
                        }
                    }
                }
                ::globfree(&auth);
            }
        }
        ARUNNER_TRY(remove_locked_dir(path, match.lock.get()));
        ++result.removed;
    }
    if (result.removed > 0) {
        std::fprintf(out, "Removed %d private data dir(s) in pattern %s\n", result.removed,
                     options.file_pattern.c_str());
    }
    result.changed = result.removed > 0;
    return result;
}

}  // namespace arunner::runner
