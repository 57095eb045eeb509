#pragma once
// Reading ART/job_events the way a user's program does: every `<counter>-<uuid>.json`, sorted by
// counter.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "support/command.hpp"

namespace arunner::testing {

/// The events in `art`/job_events in counter order (files that fail to parse are skipped).
inline std::vector<nlohmann::ordered_json> load_job_events(const std::filesystem::path& art) {
    std::vector<std::pair<long, nlohmann::ordered_json>> found;
    static const std::regex name(R"(^([0-9]+)-.+\.json$)");
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(art / "job_events", ec)) {
        std::string file = entry.path().filename().string();
        std::smatch m;
        if (!std::regex_match(file, m, name) || file.find("-partial") != std::string::npos) {
            continue;
        }
        auto event = nlohmann::ordered_json::parse(read_text(entry.path()), nullptr, false);
        if (!event.is_discarded()) {
            found.emplace_back(std::stol(m[1]), std::move(event));
        }
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<nlohmann::ordered_json> events;
    for (auto& [counter, event] : found) {
        events.push_back(std::move(event));
    }
    return events;
}

/// Every file under `dir`, recursively, as text concatenated (to look for leaked secrets).
inline std::string all_text_under(const std::filesystem::path& dir) {
    std::string text;
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
        if (entry.is_regular_file()) {
            text += read_text(entry.path());
        }
    }
    return text;
}

/// The keys of a JSON object, in order.
inline std::vector<std::string> keys_of(const nlohmann::ordered_json& object) {
    std::vector<std::string> keys;
    if (object.is_object()) {
        for (const auto& [key, value] : object.items()) {
            keys.push_back(key);
        }
    }
    return keys;
}

/// Waits (up to `limit`) until a `playbook_on_task_start` event of the task `task` is in
/// `art`/job_events: the job is running that task. False if it never comes.
inline bool wait_for_task_start(const std::filesystem::path& art, const std::string& task,
                                std::chrono::milliseconds limit) {
    return wait_until(
        [&] {
            for (const auto& event : load_job_events(art)) {
                if (event.value("event", "") == "playbook_on_task_start" &&
                    event.value("event_data", nlohmann::ordered_json::object()).value("task", "") ==
                        task) {
                    return true;
                }
            }
            return false;
        },
        limit);
}

}  // namespace arunner::testing
