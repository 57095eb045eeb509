#pragma once
// Zips a directory the way ansible-runner's sender does (docs/stream.md), for the `{"zipfile": N}`
// payloads of transmit and worker. Memory stays bounded whatever the tree's size: file contents
// are streamed in chunks and only one directory listing is held at a time.

#include <filesystem>

#include "arunner/error.hpp"

namespace arunner::stream {

/// Whether write_zip() follows a symlink at `source_dir` itself (below it, nothing is followed).
enum class ZipRoot {
    no_follow,  ///< a symlink at the root is an error: ART, which the job could have swapped
    follow      ///< the user's private data dir, which may be a link they made (os.walk's top)
};

/// Writes a zip of everything under `source_dir` to `out_fd` (a spooled temp file in practice;
/// the descriptor stays open and owned by the caller). The walk is top-down, and in each
/// directory the entries of files and symlinks come before those of subdirectories (each sorted
/// by name); directories get their own `name/` entries. Modes are stored in the high 16 bits of
/// external_attr; mtimes as DOS local time clamped to 1980-01-01 (plus libarchive's UTC "UT"
/// field). Symlinks, to files or directories, are stored as links (content = target) and never
/// followed; FIFOs, sockets and devices are skipped without being opened. Files that look
/// incompressible (judged on their first 64 KiB) are stored, the rest deflated at level 1. An
/// empty `source_dir` path gives an empty zip. Errors name the path and the call that failed;
/// whatever was written to `out_fd` is then garbage. The walk goes through directory fds from
/// the root down (O_NOFOLLOW at every level), so a directory swapped for a symlink while it runs
/// never leads the walk out of the root.
Status write_zip(const std::filesystem::path& source_dir, int out_fd,
                 ZipRoot root = ZipRoot::no_follow);

}  // namespace arunner::stream
