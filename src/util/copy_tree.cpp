#include "util/copy_tree.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "util/files.hpp"

namespace arunner::util {
namespace {

namespace fs = std::filesystem;

/// Copies the bytes of `in` to `out` in the kernel (sendfile), bounded memory whatever the size.
Status copy_bytes(int in, int out, const fs::path& shown) {
    for (;;) {
        ssize_t n = ::sendfile(out, in, nullptr, 1 << 30);
        if (n == 0) {
            return {};
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno_error("cannot copy", shown, errno);
        }
    }
}

Status copy_file(int from_dir, int to_dir, const std::string& name, const struct stat& st,
                 const fs::path& shown) {
    UniqueFd in(::openat(from_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!in.valid()) {
        return errno_error("cannot open", shown, errno);
    }
    ARUNNER_ASSIGN_OR_RETURN(auto out, create_file_at(to_dir, name, st.st_mode & 07777, shown));
    ARUNNER_TRY(copy_bytes(in.get(), out.get(), shown));
    const std::array<timespec, 2> times{st.st_atim, st.st_mtim};
    ::futimens(out.get(), times.data());
    return {};
}

Status copy_link(int from_dir, int to_dir, const std::string& name, const fs::path& shown) {
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlinkat(from_dir, name.c_str(), target.data(), target.size());
    if (n < 0) {
        return errno_error("cannot read the link", shown, errno);
    }
    target.resize(static_cast<size_t>(n));
    if (::symlinkat(target.c_str(), to_dir, name.c_str()) != 0) {
        return errno_error("cannot create the link", shown, errno);
    }
    return {};
}

Status copy_children(int from_dir, int to_dir, const fs::path& shown, int depth) {
    if (depth > kMaxCopyDepth) {
        return Error{"cannot copy " + shown.string() + ": directories are nested more than " +
                     std::to_string(kMaxCopyDepth) + " levels deep"};
    }
    ARUNNER_ASSIGN_OR_RETURN(auto names, list_dir_at(from_dir, shown));
    for (const std::string& name : names) {
        const fs::path path = shown / name;
        struct stat st {};
        if (::fstatat(from_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue;  // removed while we copy
            }
            return errno_error("cannot lstat", path, errno);
        }
        if (S_ISREG(st.st_mode)) {
            ARUNNER_TRY(copy_file(from_dir, to_dir, name, st, path));
        } else if (S_ISLNK(st.st_mode)) {
            ARUNNER_TRY(copy_link(from_dir, to_dir, name, path));
        } else if (S_ISDIR(st.st_mode)) {
            ARUNNER_ASSIGN_OR_RETURN(auto from_sub, open_dir_at(from_dir, name, path));
            // Made 0700 so the copy can fill it whatever its mode; its own mode comes last.
            ARUNNER_ASSIGN_OR_RETURN(auto to_sub, make_dir_at(to_dir, name, 0700, path));
            ARUNNER_TRY(copy_children(from_sub.get(), to_sub.get(), path, depth + 1));
            ::fchmod(to_sub.get(), st.st_mode & 07777);
        }
    }
    return {};
}

}  // namespace

Status copy_tree(const fs::path& from, const fs::path& to) {
    UniqueFd from_fd(::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!from_fd.valid()) {
        return errno_error("cannot open", from, errno);
    }
    ARUNNER_ASSIGN_OR_RETURN(auto to_fd, open_dir_at(AT_FDCWD, to, to));
    return copy_children(from_fd.get(), to_fd.get(), from, 1);
}

}  // namespace arunner::util
