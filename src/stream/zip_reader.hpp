#pragma once
// Unzips a `{"zipfile": N}` payload (spooled to a file) the way ansible-runner's receiver does
// (docs/stream.md), refusing archives that would write outside the target or unpack to far more
// than they weigh. Memory stays bounded: entries are streamed to disk in chunks.

#include <cstdint>
#include <filesystem>

#include "arunner/error.hpp"
#include "arunner/stream_options.hpp"

namespace arunner::stream {

using ExtractLimits = arunner::ExtractLimits;  // include/arunner/stream_options.hpp

/// Which symlink entries extract_zip() accepts.
enum class LinkTargets {
    any,    ///< any target, as ansible-runner's worker recreates the private data dir it was sent
    inside  ///< only relative targets that stay inside the target dir (what `process` accepts
            ///< from a worker): an absolute target or one that leaves is refused, naming the entry
};

/// Extracts `zip_file` into `target_dir` (created if missing) with libarchive's seekable zip
/// reader, entry by entry in archive order:
/// - an existing path is replaced by a symlink entry; an existing FIFO is removed and the entry
///   skipped; an existing directory (or symlink to one) makes the entry skipped, not re-chmodded;
///   an existing file or symlink is replaced by a new file, never written through;
/// - files get the stored mode (without setuid/setgid) and mtime (the DOS time read as local
///   time, or the UT field when present); symlinks are recreated as symlinks; directories get
///   their mode and mtime once everything is extracted, so read-only dirs can still be filled.
/// Refused with an Error naming the entry, before anything is written: an absolute path or a
/// `..` component; a total declared size above `limits`. Refused when met: a path through a
/// symlink (existing or created by the archive) that resolves outside `target_dir`, and real
/// contents beyond the limits (extraction stops there). Garbage or truncated input is an Error.
/// Entries extracted before an error stay on disk; nothing is written outside `target_dir`
/// (assuming no one else changes the tree concurrently).
/// With LinkTargets::inside, a symlink entry must be relative, its leading `..` components may
/// not climb above the target dir from the (real) directory the link is made in, and no `..`
/// may follow a named component (which could itself be a link).
Status extract_zip(const std::filesystem::path& zip_file, const std::filesystem::path& target_dir,
                   const ExtractLimits& limits, LinkTargets links = LinkTargets::any);

}  // namespace arunner::stream
