#include "stream/processor.hpp"

#include "events/async_file_writer.hpp"
#include "events/job_event_writer.hpp"
#include "stream/spool_file.hpp"
#include "stream/wire.hpp"
#include "util/files.hpp"
#include "util/python_json.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::optional<JobStatus> parse_status(const std::string& word) {
    for (JobStatus s :
         {JobStatus::unstarted, JobStatus::starting, JobStatus::running, JobStatus::successful,
          JobStatus::failed, JobStatus::canceled, JobStatus::timeout, JobStatus::error}) {
        if (to_string(s) == word) {
            return s;
        }
    }
    return std::nullopt;
}

bool truthy(const Json& v) {
    if (v.is_null())
        return false;
    if (v.is_boolean())
        return v.get<bool>();
    if (v.is_number())
        return v.get<double>() != 0;
    if (v.is_string() || v.is_array() || v.is_object())
        return !v.empty();
    return true;
}

/// The parse-error explanation, kept under 2,000 characters as ansible-runner's tests require.
std::string parse_error(const std::string& reason, std::string_view line) {
    return "Failed to JSON parse a line from worker stream. Error: " + reason.substr(0, 500) +
           " Line with invalid JSON data: " +
           python_bytes_repr(line.substr(0, 1000)).substr(0, 1300);
}

}  // namespace

ProcessResult run_processor(int in_fd, const ProcessorOptions& options) {
    ProcessResult result;
    fs::path pdd = util::absolute_path(options.private_data_dir);
    if (options.artifact_dir) {
        result.artifact_dir = util::absolute_path(*options.artifact_dir);
    } else if (options.ident) {
        result.artifact_dir = pdd / "artifacts" / *options.ident;
    } else {
        result.artifact_dir = pdd / "artifacts";
    }
    const RunCallbacks& cb = options.callbacks;
    auto status_callback = [&](const Json& line) {
        auto status = line["status"].is_string() ? parse_status(line["status"].get<std::string>())
                                                 : std::nullopt;
        result.status = status.value_or(JobStatus::error);
        if (result.status == JobStatus::error) {
            result.error = line.value("job_explanation", "the worker reported an error");
        }
        if (cb.status_handler) {
            StatusUpdate update;
            update.status = result.status;
            update.runner_ident = line.value("runner_ident", "");
            if (line.contains("command") && line["command"].is_array()) {
                for (const auto& word : line["command"]) {
                    update.command.push_back(word.is_string() ? word.get<std::string>()
                                                              : word.dump());
                }
            }
            if (line.contains("env") && line["env"].is_object()) {
                for (const auto& [name, value] : line["env"].items()) {
                    update.env.emplace_back(
                        name, value.is_string() ? value.get<std::string>() : value.dump());
                }
            }
            update.cwd = line.value("cwd", "");
            cb.status_handler(update);
        }
    };
    auto error_out = [&](const std::string& explanation) {
        status_callback(Json{{"status", "error"}, {"job_explanation", explanation}});
    };

    if (auto made = util::make_dirs(result.artifact_dir / "job_events", 0700); !made) {
        result.status = JobStatus::error;
        result.error = made.error().message;
        return result;
    }
    events::AsyncFileWriter files;
    WireReader in(in_fd);
    bool saw_eof = false;
    for (;;) {
        auto line = in.read_line();
        if (!line) {
            error_out(line.error().message);
            break;
        }
        if (!*line) {
            break;  // end of stream: reported below unless eof came first
        }
        Json data = Json::parse(**line, nullptr, false);
        if (!data.is_object()) {
            std::string reason = data.is_discarded() ? "not valid JSON" : "not a JSON object";
            error_out(parse_error(reason, **line));
            saw_eof = true;  // already reported
            break;
        }
        if (data.contains("status")) {
            status_callback(data);
        } else if (data.contains("zipfile")) {
            Status unpacked = receive_zip(in, data["zipfile"], result.artifact_dir, options.limits);
            if (!unpacked) {
                error_out("Failed to extract the artifacts from the worker stream: " +
                          unpacked.error().message);
                saw_eof = true;
                break;
            }
            if (cb.artifacts_handler) {
                (void)files.finish();  // the handler sees every event file
                cb.artifacts_handler(result.artifact_dir);
            }
        } else if (data.contains("eof")) {
            saw_eof = true;
            break;
        } else if (data.value("event", "") == "keepalive") {
            continue;
        } else {
            if (!truthy(data.value("counter", Json())) || !truthy(data.value("uuid", Json()))) {
                continue;
            }
            if (!options.quiet && options.console_fd >= 0 && data.contains("stdout")) {
                std::string text = data["stdout"].is_string() ? data["stdout"].get<std::string>()
                                                              : data["stdout"].dump();
                text += '\n';  // print(event['stdout'])
                (void)util::write_all(options.console_fd, text);
            }
            bool write = cb.event_handler ? cb.event_handler(data) : true;
            if (write) {
                // Without a handler the event is exactly the line (both ends write Python JSON), so
                // the line is written as it came; a handler may have changed the event. Files are
                // written directly (not atomically, as ansible-runner's processor) on a writer
                // thread, so the file system's work overlaps parsing the next events.
                std::string text = std::move(**line);
                if (cb.event_handler) {
                    text.clear();
                    util::python_json_dump(data, text);
                }
                auto written = files.push(
                    result.artifact_dir / "job_events" / events::JobEventWriter::file_name(data),
                    std::move(text));
                if (!written) {
                    error_out(written.error().message);
                    saw_eof = true;
                    break;
                }
            }
        }
    }
    if (auto written = files.finish(); !written && result.status != JobStatus::error) {
        error_out(written.error().message);
    }
    if (!saw_eof) {
        error_out("The worker stream was cut: it ended without {\"eof\": true}.");
    }
    return result;
}

}  // namespace arunner::stream
