#pragma once
// ART/job_events/<counter>-<uuid>.json: one file per event, written atomically (a .tmp file then
// a rename, mode 0600) the moment the event is complete, so a program polling the directory
// during the run never reads half an event.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"

namespace arunner::events {

/// Writes job event files into one directory. Not thread-safe.
class JobEventWriter {
  public:
    explicit JobEventWriter(std::filesystem::path directory) : directory_(std::move(directory)) {}

    /// Writes `event` as Python JSON (ensure_ascii) to `<counter>-<uuid>.json`; atomically (a
    /// .tmp file renamed into place) unless `atomic` is false.
    Status write(const nlohmann::ordered_json& event, bool atomic = true);
    /// Writes `text`, already the event's Python JSON, under the event's file name.
    Status write_raw(const nlohmann::ordered_json& event, std::string_view text, bool atomic);

    const std::filesystem::path& directory() const { return directory_; }

    /// The file name an event gets, e.g. "3-0242ac11-….json".
    static std::string file_name(const nlohmann::ordered_json& event);

  private:
    std::filesystem::path directory_;
    std::string scratch_;  // reused between events to avoid reallocating
};

}  // namespace arunner::events
