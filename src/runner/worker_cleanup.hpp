#pragma once
// `arunner worker cleanup` (docs/worker-cleanup.md): removes private data dirs of finished jobs,
// with two deliberate differences from ansible-runner: a dir whose worker still holds its lock is
// never touched (upstream gets this backwards), and a pattern that matches a system directory or
// anything that is not a private data dir is refused as a whole.
//
// The worker's lock is a flock on the private data dir's own directory fd (docs/worker-lock.md):
// no file inside the dir stands for it, so nothing a job stream unpacks can replace or fake it.

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::runner {

/// What to clean.
struct CleanupOptions {
    std::string file_pattern;                  ///< a glob; empty = no dirs
    std::vector<std::string> exclude_strings;  ///< skip paths containing any of these
    int grace_period_minutes = 60;             ///< skip dirs modified more recently; 0 = none
};

/// What happened.
struct CleanupResult {
    int removed = 0;
    bool changed = false;
};

/// Removes the matching private data dirs, printing ansible-runner's lines to `out`. An Error
/// (nothing removed) when the pattern matches something it must not.
Result<CleanupResult> cleanup_private_data_dirs(const CleanupOptions& options, std::FILE* out);

/// The outcome of trying to take a private data dir's worker lock.
enum class DirLock { taken, busy, missing };

/// Opens `dir` itself (O_DIRECTORY|O_NOFOLLOW: a symlink is refused) and takes the worker lock
/// on it without waiting. `missing` only for ENOENT; any other failure, a symlink included, is
/// `busy` (the dir is not ours to touch). `fd` holds the lock while it stays open.
DirLock lock_private_data_dir(const std::filesystem::path& dir, util::UniqueFd& fd);

/// Removes everything inside the open directory `dir_fd`, never following a symlink (a link is
/// removed, not its target) and making read-only subdirectories writable first.
Status empty_dir(int dir_fd, const std::filesystem::path& display_path);

/// Empties the directory `dir_fd` (held open and locked) and removes `path` when it still names
/// that same directory (a dir swapped in under the name stays).
Status remove_locked_dir(const std::filesystem::path& path, int dir_fd);

/// Removes the tree at `path` as empty_dir() does, then the directory itself. A missing path
/// is not an error; a symlink at `path` is removed as a link.
Status remove_tree(const std::filesystem::path& path);

/// `text` with glob(7) metacharacters (`*`, `?`, `[`, `\`) escaped, to match it literally.
std::string glob_escape(const std::string& text);

}  // namespace arunner::runner
