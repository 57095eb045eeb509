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

Status JobEventWriter::write(const nlohmann::ordered_json& event) {
    scratch_.clear();
    util::python_json_dump(event, scratch_);
    return util::write_file_atomic(directory_ / file_name(event), scratch_, 0600);
}

}  // namespace arunner::events
