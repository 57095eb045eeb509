#pragma once
// ART/job_events/<counter>-<uuid>.json: one file per event, mode 0600. The one place event file
// names are made and event files written, for `run` and `process` alike.
//
// The names come only from a counter that is a non-negative integer and a uuid in the 8-4-4-4-12
// hex form ansible-runner's callback gives (uuid4 or ansible's task uuids): nothing from a
// worker stream or a forged frame can name a file outside job_events. Files are written
// relative to a job_events directory fd opened with O_NOFOLLOW, and a symlink or FIFO already at
// an event file's name is replaced, never followed or opened.

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::events {

/// Writes job event files into one job_events directory. write() is not thread-safe (it reuses
/// a buffer); write_named() and the static functions are.
class JobEventWriter {
  public:
    /// Opens (creating it 0700 when missing) `job_events` under the artifact dir `art_fd`,
    /// without following a symlink there; `art_path` is ART's path, for messages only.
    static Result<JobEventWriter> open(int art_fd, const std::filesystem::path& art_path);

    /// Writes `event` as Python JSON (ensure_ascii) to `<counter>-<uuid>.json`; atomically (a
    /// .tmp file renamed into place) unless `atomic` is false.
    Status write(const nlohmann::ordered_json& event, bool atomic = true);
    /// Writes `text`, already the event's Python JSON, under the event's file name.
    Status write_raw(const nlohmann::ordered_json& event, std::string_view text, bool atomic) const;
    /// Writes `text` under `name`, a name file_name() made. Not atomic: a fresh file replaces
    /// whatever was there (`process` writes each file once, as fast as it can).
    Status write_named(const std::string& name, std::string_view text, bool atomic) const;

    /// Opens job_events again (after an unpacked zip may have replaced it).
    Status reopen();

    /// ART/job_events, for messages and callers that report the path of a written file.
    const std::filesystem::path& directory() const { return directory_; }

    /// The file name an event gets, e.g. "3-0242ac11-0002-4d3c-8e1f-000000000001.json", or an
    /// Error naming the field (`counter` or `uuid`) that cannot make one.
    static Result<std::string> file_name(const nlohmann::ordered_json& event);
    /// The same from the counter's JSON digits and the uuid's (unescaped) text, for callers
    /// that have not built the event.
    static Result<std::string> file_name(std::string_view counter_digits, std::string_view uuid);

    /// True for the 8-4-4-4-12 hex form (either case).
    static bool valid_uuid(std::string_view uuid);

  private:
    JobEventWriter(int art_fd, std::filesystem::path directory, util::UniqueFd dir)
        : art_fd_(art_fd), directory_(std::move(directory)), dir_(std::move(dir)) {}
    int art_fd_;  // owned by the ArtifactDir; outlives the writer
    std::filesystem::path directory_;
    util::UniqueFd dir_;
    std::string scratch_;  // reused between events to avoid reallocating
};

}  // namespace arunner::events
