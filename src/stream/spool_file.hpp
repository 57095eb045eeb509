#pragma once
// A temporary file for a zip on its way into or out of a stream: created in $TMPDIR without a
// name (util::unnamed_temp_file), so nothing of a job's inputs is left on disk after any crash,
// SIGKILL included. Keeps payloads on disk, never in memory.

#include <filesystem>
#include <utility>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "arunner/stream_options.hpp"
#include "stream/zip_reader.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {

/// An open temp file without a name; gone when the last descriptor of it closes.
class SpoolFile {
  public:
    static Result<SpoolFile> create();
    SpoolFile(SpoolFile&& other) noexcept
        : fd_(std::move(other.fd_)), path_(std::exchange(other.path_, {})) {}
    SpoolFile& operator=(SpoolFile&&) = delete;
    ~SpoolFile() = default;

    int fd() const { return fd_.get(); }
    /// /proc/self/fd/<fd>: opens the same file again, for readers that take a path.
    const std::filesystem::path& path() const { return path_; }

  private:
    SpoolFile() = default;
    util::UniqueFd fd_;
    std::filesystem::path path_;
};

class WireReader;

/// Reads the payload of a `{"zipfile": size}` line from `in` through a spool file and extracts
/// it into `target_dir` within `limits`. A size above limits.max_unpacked_bytes is refused before
/// anything is spooled (the zip would be refused anyway), and the spool never holds more than
/// `size` bytes.
Status receive_zip(WireReader& in, const nlohmann::ordered_json& size,
                   const std::filesystem::path& target_dir, const ExtractLimits& limits,
                   LinkTargets links = LinkTargets::any);

}  // namespace arunner::stream
