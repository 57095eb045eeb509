#pragma once
// Small filesystem helpers that report failures as arunner::Error with the path and errno text.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "arunner/error.hpp"

namespace arunner::util {

/// "<what> <path>: <strerror(errno)>", the form every file error in arunner takes.
Error errno_error(std::string_view what, const std::filesystem::path& path, int err);

/// Reads a whole file (regular file or FIFO) into memory.
Result<std::string> read_file(const std::filesystem::path& path);

/// Creates `path` (and missing parents) with `mode` for each directory created; an existing
/// directory is fine, an existing non-directory is an error.
Status make_dirs(const std::filesystem::path& path, mode_t mode);

/// Writes `content` to `path` with exactly `mode` (not subject to umask), replacing any file.
Status write_file(const std::filesystem::path& path, std::string_view content, mode_t mode);

/// Writes `content` to `<path>.tmp` with `mode`, then renames it over `path`: readers never see a
/// partial file.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode);

/// Writes every byte of `data` to `fd`, retrying on EINTR and short writes.
bool write_all(int fd, std::string_view data);

/// `path` made absolute against the current directory and lexically normalised (no symlink
/// resolution), like Python's os.path.abspath.
std::filesystem::path absolute_path(const std::filesystem::path& path);

/// Directory holding the running executable (from /proc/self/exe), or empty if unknown.
std::filesystem::path executable_dir();

}  // namespace arunner::util
