#pragma once
// Reading a file that someone else may have planted: a name beneath a directory that a job could
// write into (the private data dir, a worker's unpacked job). The name is resolved without
// leaving the directory (no absolute link, no `..` above it, no link out of it), only a regular
// file or a FIFO is read, nothing blocks (a FIFO whose writer never comes is given a bounded
// wait), and the size is bounded, so a planted link, device, FIFO or huge file gives an error
// that names the file instead of reading a host file, hanging or exhausting memory
// (docs/private-data-dir-trust.md).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "arunner/error.hpp"
#include "util/clock.hpp"

namespace arunner::util {

/// The bounds of one read.
struct ReadBounds {
    /// A larger file is an error (it is not read past this).
    size_t max_bytes = 16u << 20;
    /// How long a FIFO may take, from the open, to be written and closed by its writer (AWX
    /// writes env/ssh_key through a FIFO, ansible_runner.utils.open_fifo_write).
    std::chrono::milliseconds fifo_wait{10000};
    /// The clock that times the FIFO's wait (nullptr: the real one).
    Clock* clock = nullptr;
};

/// Reads `relative` (one or more components, no leading '/') beneath the open directory
/// `dir_fd`. A link whose target stays beneath the directory is followed; one that leads out of
/// it (absolute, or `..` past the top) is an error, as is anything but a regular file or a FIFO.
/// nullopt when the name (or a directory on its way) does not exist. Errors read
/// "cannot read <shown>: <why>".
Result<std::optional<std::string>> read_file_beneath(int dir_fd, const std::string& relative,
                                                     const std::string& shown,
                                                     const ReadBounds& bounds = {});

/// read_file_beneath() of `relative` under the directory `dir` (opened following links: the
/// caller named it).
Result<std::optional<std::string>> read_file_beneath(const std::string& dir,
                                                     const std::string& relative,
                                                     const std::string& shown,
                                                     const ReadBounds& bounds = {});

}  // namespace arunner::util
