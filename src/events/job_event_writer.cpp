#include "events/job_event_writer.hpp"

#include <sys/stat.h>

#include "util/files.hpp"
#include "util/python_json.hpp"

namespace arunner::events {

Result<JobEventWriter> JobEventWriter::open(int art_fd, const std::filesystem::path& art_path) {
    std::filesystem::path directory = art_path / "job_events";
    ARUNNER_ASSIGN_OR_RETURN(auto dir, util::make_dir_at(art_fd, "job_events", 0700, directory));
    return JobEventWriter(art_fd, std::move(directory), std::move(dir));
}

Status JobEventWriter::reopen() {
    ARUNNER_ASSIGN_OR_RETURN(dir_, util::make_dir_at(art_fd_, "job_events", 0700, directory_));
    return {};
}

bool JobEventWriter::valid_uuid(std::string_view uuid) {
    if (uuid.size() != 36) {
        return false;
    }
    for (size_t i = 0; i < uuid.size(); ++i) {
        char c = uuid[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

namespace {

std::string shown(std::string_view text) {
    return std::string(text.substr(0, 100)) + (text.size() > 100 ? "..." : "");
}

}  // namespace

Result<std::string> JobEventWriter::file_name(std::string_view counter_digits,
                                              std::string_view uuid) {
    bool digits = !counter_digits.empty() && counter_digits.size() <= 19;
    for (char c : counter_digits) {
        digits = digits && c >= '0' && c <= '9';
    }
    if (!digits) {
        return Error{"the event's counter " + shown(counter_digits) +
                     " is not a non-negative integer, so it cannot name an event file in "
                     "job_events"};
    }
    if (!valid_uuid(uuid)) {
        return Error{"the event's uuid '" + shown(uuid) +
                     "' is not a uuid (8-4-4-4-12 hex digits), so it cannot name an event file "
                     "in job_events"};
    }
    std::string name;
    name.reserve(counter_digits.size() + uuid.size() + 6);
    name.append(counter_digits);
    name += '-';
    name.append(uuid);
    name += ".json";
    return name;
}

Result<std::string> JobEventWriter::file_name(const nlohmann::ordered_json& event) {
    // A non-integer counter or a non-string uuid goes through the same checks as text that can
    // never pass them, so every refusal reads the same.
    auto counter = event.find("counter");
    std::string counter_text = counter == event.end() ? "(missing)" : counter->dump();
    if (counter != event.end() && !counter->is_number_integer()) {
        counter_text = "(" + counter_text + ")";
    }
    auto uuid = event.find("uuid");
    if (uuid != event.end() && uuid->is_string()) {
        return file_name(counter_text, uuid->get_ref<const std::string&>());
    }
    return file_name(counter_text, uuid == event.end() ? "(missing)" : "(" + uuid->dump() + ")");
}

Status JobEventWriter::write(const nlohmann::ordered_json& event, bool atomic) {
    scratch_.clear();
    util::python_json_dump(event, scratch_);
    return write_raw(event, scratch_, atomic);
}

Status JobEventWriter::write_raw(const nlohmann::ordered_json& event, std::string_view text,
                                 bool atomic) const {
    ARUNNER_ASSIGN_OR_RETURN(auto name, file_name(event));
    return write_named(name, text, atomic);
}

Status JobEventWriter::write_named(const std::string& name, std::string_view text,
                                   bool atomic) const {
    return atomic ? util::write_file_atomic_at(dir_.get(), name, text, 0600, directory_ / name)
                  : util::write_file_at(dir_.get(), name, text, 0600, directory_ / name);
}

}  // namespace arunner::events
