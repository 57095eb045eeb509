#include "events/job_event_writer.hpp"

#include "util/files.hpp"
#include "util/python_json.hpp"

namespace arunner::events {

std::string JobEventWriter::file_name(const nlohmann::ordered_json& event) {
    auto text = [](const nlohmann::ordered_json& value) {
        return value.is_string() ? value.get<std::string>() : value.dump();
    };
    return text(event.value("counter", nlohmann::ordered_json(0))) + "-" +
           text(event.value("uuid", nlohmann::ordered_json(""))) + ".json";
}

Status JobEventWriter::write(const nlohmann::ordered_json& event, bool atomic) {
    scratch_.clear();
    util::python_json_dump(event, scratch_);
    return write_raw(event, scratch_, atomic);
}

Status JobEventWriter::write_raw(const nlohmann::ordered_json& event, std::string_view text,
                                 bool atomic) {
    std::filesystem::path path = directory_ / file_name(event);
    return atomic ? util::write_file_atomic(path, text, 0600) : util::write_file(path, text, 0600);
}

}  // namespace arunner::events
