#pragma once
// Small filesystem helpers that report failures as arunner::Error with the path and errno text.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::util {

/// "<what> <path>: <strerror(errno)>", the form every file error in arunner takes.
Error errno_error(std::string_view what, const std::filesystem::path& path, int err);

/// Reads a whole file (regular file or FIFO) into memory.
Result<std::string> read_file(const std::filesystem::path& path);

/// Creates `path` (and missing parents) with `mode` for each directory created; an existing
/// directory is fine, an existing non-directory is an error.
Status make_dirs(const std::filesystem::path& path, mode_t mode);

/// Writes `content` to `path` with exactly `mode` (not subject to umask), replacing any file.
/// A symlink at `path` is not followed (an error), nor is a FIFO opened blocking.
Status write_file(const std::filesystem::path& path, std::string_view content, mode_t mode);

/// Writes `content` to `<path>.tmp` with `mode`, then renames it over `path`: readers never see a
/// partial file.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode);

/// Writes every byte of `data` to `fd`, retrying on EINTR and short writes.
bool write_all(int fd, std::string_view data);

/// `path` made absolute against the current directory and lexically normalised (no symlink
/// resolution), like Python's os.path.abspath.
std::filesystem::path absolute_path(const std::filesystem::path& path);

/// Whether `path` names anything (following a final link), false on any error instead of a throw.
bool path_exists(const std::filesystem::path& path);

/// Directory holding the running executable (from /proc/self/exe), or empty if unknown.
std::filesystem::path executable_dir();

/// Finds `name` the way pexpect's which() does: a name with a '/' is used as it is, anything
/// else is searched in `path_variable` (colon-separated). Empty when not found or not executable.
std::string find_executable(const std::string& name, const std::string& path_variable);

// --- Writing beneath a directory fd -------------------------------------------------------------
// Everything below works relative to an open directory and never follows a symlink at the name it
// is given (O_NOFOLLOW), never blocks on a FIFO found there (O_NONBLOCK), and never writes into
// an inode that was already there: an existing file, link or FIFO at the name is unlinked and a
// fresh file created with O_EXCL. `shown` is the path used in error messages.

/// Opens the directory `name` under `dir_fd` (AT_FDCWD: relative to the cwd) without following
/// a symlink at its last component: a symlink there is an error (ELOOP/ENOTDIR).
Result<UniqueFd> open_dir_at(int dir_fd, const std::filesystem::path& name,
                             const std::filesystem::path& shown);

/// Creates the directory `name` under `dir_fd` with exactly `mode` when it is missing, then
/// opens it as open_dir_at() does (an existing directory keeps its mode).
Result<UniqueFd> make_dir_at(int dir_fd, const std::string& name, mode_t mode,
                             const std::filesystem::path& shown);

/// Creates a fresh file `name` under `dir_fd` with exactly `mode`, open for writing with
/// `extra_flags` (e.g. O_APPEND), replacing whatever non-directory was at the name.
Result<UniqueFd> create_file_at(int dir_fd, const std::string& name, mode_t mode,
                                const std::filesystem::path& shown, int extra_flags = 0);

/// create_file_at() and writes `content`. On a failed write the partial file is removed.
Status write_file_at(int dir_fd, const std::string& name, std::string_view content, mode_t mode,
                     const std::filesystem::path& shown);

/// Writes `content` to `<name>.tmp` under `dir_fd`, then renames it over `name`: readers see the
/// old file or the new one, never a partial or empty one. On any failure the temp file is
/// removed and the previous `name` is left as it was.
Status write_file_atomic_at(int dir_fd, const std::string& name, std::string_view content,
                            mode_t mode, const std::filesystem::path& shown);

/// The names in the directory `dir_fd` (without "." and ".."), in readdir's order.
Result<std::vector<std::string>> list_dir_at(int dir_fd, const std::filesystem::path& shown);

/// Removes `name` under `dir_fd` and, when it is a directory, everything in it, through
/// directory fds: a symlink anywhere in the tree is removed, never followed; read-only
/// directories are made writable first; a tree of any depth is removed with bounded stack and
/// descriptors. ENOENT is fine.
Status remove_tree_at(int dir_fd, const std::string& name, const std::filesystem::path& shown);

/// remove_tree_at() of a path (relative to the cwd); its parents are taken as they are.
Status remove_tree(const std::filesystem::path& path);

/// True when the process umask would strip a bit of `mode` from a new file (read once).
bool umask_strips(mode_t mode);

}  // namespace arunner::util
