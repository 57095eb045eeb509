#include "stream/worker_cleanup.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <set>

#include "stream/worker.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
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
    return resolved == fs::weakly_canonical(fs::temp_directory_path(), ec);
}

/// A dir arunner or ansible-runner made for a job: its worker lock, or env/, project/ or
/// artifacts/ in it.
bool is_private_data_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec) || fs::is_symlink(dir, ec)) {
        return false;
    }
    for (const char* marker : {kWorkerLockFile, "env", "project", "artifacts"}) {
        if (fs::exists(dir / marker, ec)) {
            return true;
        }
    }
    return false;
}

/// Takes the dir's worker lock if nobody holds it. An invalid fd means "in use".
util::UniqueFd lock_if_idle(const fs::path& dir) {
    fs::path lock_file = dir / kWorkerLockFile;
    util::UniqueFd fd(::open(lock_file.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        // No lock file: no worker of ours ran here, or it never got that far.
        return util::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        return util::UniqueFd();
    }
    return fd;
}

}  // namespace

Result<CleanupResult> cleanup_private_data_dirs(const CleanupOptions& options, std::FILE* out) {
    CleanupResult result;
    if (options.file_pattern.empty()) {
        return result;
    }
    glob_t matches{};
    int rc = ::glob(options.file_pattern.c_str(), GLOB_NOSORT, nullptr, &matches);
    std::vector<fs::path> paths;
    if (rc == 0) {
        for (size_t i = 0; i < matches.gl_pathc; ++i) {
            paths.emplace_back(matches.gl_pathv[i]);
        }
    }
    ::globfree(&matches);

    // Refuse first, remove after: a bad pattern removes nothing at all.
    for (const auto& path : paths) {
        std::error_code ec;
        fs::path resolved = fs::weakly_canonical(path, ec);
        if (is_system_dir(resolved)) {
            return Error{"Provided pattern could result in deleting system folders:\n" +
                         path.string() + "\nRefusing to continue for user system safety."};
        }
        if (!is_private_data_dir(path)) {
            return Error{"Provided pattern matches " + path.string() +
                         ", which is not a private data dir (no env/, project/, artifacts/ or "
                         "worker lock in it); refusing to remove anything"};
        }
    }
    const std::time_t now = std::time(nullptr);
    for (const auto& path : paths) {
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
        util::UniqueFd lock = lock_if_idle(path);
        if (!lock.valid()) {
            std::fprintf(out, "Excluding running project %s from cleanup\n", path.c_str());
            continue;
        }
        // Registry auth dirs of the dir's jobs (SPEC §7.3), named after their idents.
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(path / "artifacts", ec)) {
            std::string pattern =
                (fs::temp_directory_path() /
                 ("ansible_runner_registry_" + entry.path().filename().string() + "_*"))
                    .string();
            glob_t auth{};
            if (::glob(pattern.c_str(), 0, nullptr, &auth) == 0) {
                for (size_t i = 0; i < auth.gl_pathc; ++i) {
                    fs::remove_all(auth.gl_pathv[i], ec);
                    std::fprintf(out, "Removed associated registry auth dir %s\n",
                                 auth.gl_pathv[i]);
                }
            }
            ::globfree(&auth);
        }
        fs::remove_all(path, ec);
        if (ec) {
            return Error{"cannot remove " + path.string() + ": " + ec.message()};
        }
        ++result.removed;
    }
    if (result.removed > 0) {
        std::fprintf(out, "Removed %d private data dir(s) in pattern %s\n", result.removed,
                     options.file_pattern.c_str());
    }
    result.changed = result.removed > 0;
    return result;
}

}  // namespace arunner::stream
