#pragma once
// Zips a directory the way ansible-runner's sender does (SPEC §6.2), for the `{"zipfile": N}`
// payloads of transmit and worker. Memory stays bounded whatever the tree's size: file contents
// are streamed in chunks and only one directory listing is held at a time.

#include <filesystem>

#include "arunner/error.hpp"

namespace arunner::stream {

/// Writes a zip of everything under `source_dir` to `out_fd` (a spooled temp file in practice;
/// the descriptor stays open and owned by the caller). The walk is top-down, and in each
/// directory the entries of files and symlinks come before those of subdirectories (each sorted
/// by name); directories get their own `name/` entries. Modes are stored in the high 16 bits of
/// external_attr; mtimes as DOS local time clamped to 1980-01-01 (plus libarchive's UTC "UT"
/// field). Symlinks, to files or directories, are stored as links (content = target) and never
/// followed; FIFOs, sockets and devices are skipped without being opened. Files that look
/// incompressible (judged on their first 64 KiB) are stored, the rest deflated at level 1. An
/// empty `source_dir` path gives an empty zip. Errors name the path and the call that failed;
/// whatever was written to `out_fd` is then garbage.
Status write_zip(const std::filesystem::path& source_dir, int out_fd);

}  // namespace arunner::stream
