#pragma once
// Copies a directory tree the way shutil.copytree(symlinks=True) does for directory isolation:
// symlinks are copied as links (never followed), files with their mode and mtime, directories
// with their mode. FIFOs, sockets and devices are skipped (copying a FIFO would block).

#include <filesystem>

#include "arunner/error.hpp"

namespace arunner::util {

/// Directories nested deeper than this under the source are refused (each level holds two
/// open descriptors while it is copied).
inline constexpr int kMaxCopyDepth = 256;

/// Copies what is in the directory `from` into the existing directory `to`. `from` itself may
/// be a symlink to a directory (it is the project as configured); nothing below it is followed.
Status copy_tree(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace arunner::util
