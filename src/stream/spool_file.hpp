#pragma once
// A temporary file for a zip on its way into or out of a stream: created in $TMPDIR, removed
// when the handle dies. Keeps payloads on disk, never in memory.

#include <filesystem>
#include <utility>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "arunner/streaming.hpp"
#include "stream/zip_reader.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {

/// An open, named temp file that is deleted on destruction.
class SpoolFile {
  public:
    static Result<SpoolFile> create();
    SpoolFile(SpoolFile&& other) noexcept
        : fd_(std::move(other.fd_)), path_(std::exchange(other.path_, {})) {}
    SpoolFile& operator=(SpoolFile&&) = delete;
    ~SpoolFile();

    int fd() const { return fd_.get(); }
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
