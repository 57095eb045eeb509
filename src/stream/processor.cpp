#include "stream/processor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "artifacts/artifact_dir.hpp"
#include "events/async_file_writer.hpp"
#include "events/job_event_writer.hpp"
#include "stream/json_line_scan.hpp"
#include "stream/spool_file.hpp"
#include "stream/wire.hpp"
#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/python_truth.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
using json_scan::decode_string;
using json_scan::Member;
using json_scan::member_truthy;
using json_scan::Members;
using json_scan::scan_members;
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

/// The parse-error explanation, kept under 2,000 characters as ansible-runner's tests require.
std::string parse_error(const std::string& reason, std::string_view line) {
    return "Failed to JSON parse a line from worker stream. Error: " + reason.substr(0, 500) +
           " Line with invalid JSON data: " +
           python_bytes_repr(line.substr(0, 1000)).substr(0, 1300);
}

// ---------------------------------------------------------------------------------------------
// Event files. Creating a file costs the kernel far more than the processor spends on an event,
// so files are written on writer threads in batches (one queue hand-off per batch, not per
// file), relative to an open job_events directory, with no fchmod when the umask leaves 0600
// alone. Each name always goes to the same writer, so a repeated name is written in order.

class EventFiles {
  public:
    EventFiles(events::JobEventWriter& writer, size_t writers) : writer_(writer) {
        for (size_t i = 0; i < writers; ++i) {
            writers_.push_back(std::make_unique<events::AsyncFileWriter>(kQueuedBatches));
            batches_.emplace_back();
        }
    }
    ~EventFiles() { (void)finish(); }
    EventFiles(const EventFiles&) = delete;
    EventFiles& operator=(const EventFiles&) = delete;

    /// Opens job_events again (an unpacked zip may have replaced it); finish() first.
    Status reopen_dir() { return writer_.reopen(); }

    /// Queues `content` under `name`, a name JobEventWriter::file_name() made. A file of a batch's
    /// size or more is written here and now, after what its writer has queued (so a repeated
    /// name is still written in order): copying it into a batch would double a huge event's
    /// memory.
    Status push(std::string_view name, std::string_view content) {
        size_t w = writers_.size() == 1 ? 0 : std::hash<std::string_view>()(name) % writers_.size();
        if (content.size() >= kBatchBytes) {
            ARUNNER_TRY(send(w));
            ARUNNER_TRY(writers_[w]->finish());
            return writer_.write_named(std::string(name), content, false);
        }
        Batch& batch = batches_[w];
        Item item;
        item.name = batch.bytes.size();
        batch.bytes.append(name);
        batch.bytes += '\0';
        item.name_size = name.size();
        item.content = batch.bytes.size();
        item.size = content.size();
        batch.bytes.append(content);
        batch.items.push_back(item);
        if (batch.items.size() >= kBatchFiles || batch.bytes.size() >= kBatchBytes) {
            return send(w);
        }
        return {};
    }

    /// Waits until every pushed file is written; the first error, if any.
    Status finish() {
        Status result;
        for (size_t w = 0; w < writers_.size(); ++w) {
            Status sent = send(w);
            if (!sent && result) {
                result = sent;
            }
        }
        for (auto& writer : writers_) {
            Status done = writer->finish();
            if (!done && result) {
                result = done;
            }
        }
        return result;
    }

  private:
    static constexpr size_t kBatchFiles = 32;
    static constexpr size_t kBatchBytes = size_t{128} * 1024;
    static constexpr size_t kQueuedBatches = 32;

    struct Item {
        size_t name = 0;
        size_t name_size = 0;
        size_t content = 0;
        size_t size = 0;
    };
    struct Batch {
        std::string bytes;
        std::vector<Item> items;
    };

    Status send(size_t w) {
        if (batches_[w].items.empty()) {
            return {};
        }
        Batch batch = std::move(batches_[w]);
        batches_[w] = Batch();
        batches_[w].bytes.reserve(kBatchBytes + 4096);
        return writers_[w]->push_task(
            [this, batch = std::move(batch)]() { return write_batch(batch); });
    }

    Status write_batch(const Batch& batch) const {
        std::string name;
        for (const Item& item : batch.items) {
            name.assign(batch.bytes.data() + item.name, item.name_size);
            std::string_view content(batch.bytes.data() + item.content, item.size);
            // Not atomic: `process` writes each file once, and the dir is its own.
            ARUNNER_TRY(writer_.write_named(name, content, false));
        }
        return {};
    }

    events::JobEventWriter& writer_;  // write_named() is safe from several threads
    std::vector<Batch> batches_;
    // Last: destroyed (joined) first, while what their tasks use is still there.
    std::vector<std::unique_ptr<events::AsyncFileWriter>> writers_;
};

size_t writer_threads() {
    unsigned cores = std::thread::hardware_concurrency();
    // Files in one directory: the kernel serializes much of their creation, and more writers
    // than two were no faster on ext4 or tmpfs (and sometimes slower).
    return std::clamp<size_t>(cores, 1, 2);
}

/// The echo of each event's stdout, as Python's print() to a block-buffered stdout (per line
/// on a terminal).
class Echo {
  public:
    explicit Echo(int fd) : fd_(fd), tty_(fd >= 0 && ::isatty(fd) == 1) {}
    ~Echo() { flush(); }
    Echo(const Echo&) = delete;
    Echo& operator=(const Echo&) = delete;

    void line(std::string_view text) {
        if (text.size() >= kFlushBytes) {  // written as it is, not copied into the buffer
            flush();
            (void)util::write_all(fd_, text);
            buffer_ += '\n';
            if (tty_) {
                flush();
            }
            return;
        }
        buffer_.append(text);
        buffer_ += '\n';
        if (tty_ || buffer_.size() >= kFlushBytes) {
            flush();
        }
    }
    void flush() {
        if (!buffer_.empty()) {
            (void)util::write_all(fd_, buffer_);
            buffer_.clear();
        }
    }

  private:
    static constexpr size_t kFlushBytes = size_t{64} * 1024;
    int fd_;
    bool tty_;
    std::string buffer_;
};

}  // namespace

namespace detail {

bool fast_parse(std::string_view text, nlohmann::ordered_json& out) {
    return json_scan::parse_json(text, out);
}

}  // namespace detail

namespace {

/// A string member of a status line, or "" when it is missing or of another type (ignored, as
/// ansible-runner passes such fields through without using them).
std::string string_member(const Json& line, const char* key) {
    auto it = line.find(key);
    return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// What a status line's `job_explanation` says: a string as is, any other non-null value as its
/// JSON text (ansible-runner shows whatever came), nothing when missing or null.
std::string explanation_of(const Json& line) {
    auto it = line.find("job_explanation");
    if (it == line.end() || it->is_null()) {
        return "the worker reported an error";
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

/// Runs a user callback; an exception from it becomes an Error instead of leaving `process`.
template <typename F>
Status guarded(const char* what, F&& call) {
    try {
        call();
    } catch (const std::exception& e) {
        return Error{std::string("Exception in ") + what + ": " + e.what()};
    } catch (...) {
        return Error{std::string("Exception in ") + what};
    }
    return {};
}

ProcessResult process_stream(int in_fd, const ProcessorOptions& options,
                             const ProcessorHooks& hooks);

}  // namespace

ProcessResult run_processor(int in_fd, const ProcessorOptions& options,
                            const ProcessorHooks& hooks) {
    // The last guard of the library: nothing the stream says may escape as an exception (a
    // bad_alloc included), so a peer can never abort the controller.
    try {
        return process_stream(in_fd, options, hooks);
    } catch (const std::exception& e) {
        ProcessResult result;
        result.status = JobStatus::error;
        result.error =
            std::string("internal error while processing the worker stream: ") + e.what();
        return result;
    }
}

namespace {

ProcessResult process_stream(int in_fd, const ProcessorOptions& options,
                             const ProcessorHooks& hooks) {
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
    const bool echo_stdout = !options.quiet && options.console_fd >= 0;
    Echo echo(options.console_fd);
    std::optional<Error> callback_error;
    // Every field is type-checked before use: a status line of any shape is an `error` status
    // naming the field, or the field is ignored as ansible-runner ignores it; never a throw.
    auto status_callback = [&](const Json& line) {
        auto field = line.find("status");
        auto status = field != line.end() && field->is_string()
                          ? parse_status(field->get<std::string>())
                          : std::nullopt;
        result.status = status.value_or(JobStatus::error);
        if (!status) {
            result.error = "the worker stream's status " +
                           (field == line.end() ? std::string("(missing)") : field->dump()) +
                           " is not a job status";
        } else if (result.status == JobStatus::error) {
            result.error = explanation_of(line);
        }
        if (cb.status_handler) {
            StatusUpdate update;
            update.status = result.status;
            update.runner_ident = string_member(line, "runner_ident");
            if (auto command = line.find("command"); command != line.end() && command->is_array()) {
                for (const auto& word : *command) {
                    update.command.push_back(word.is_string() ? word.get<std::string>()
                                                              : word.dump());
                }
            }
            if (auto env = line.find("env"); env != line.end() && env->is_object()) {
                for (const auto& [name, value] : env->items()) {
                    update.env.emplace_back(
                        name, value.is_string() ? value.get<std::string>() : value.dump());
                }
            }
            update.cwd = string_member(line, "cwd");
            update.job_explanation = string_member(line, "job_explanation");
            update.result_traceback = string_member(line, "result_traceback");
            echo.flush();
            Status called = guarded("status_handler", [&] { cb.status_handler(update); });
            if (!called && !callback_error) {
                callback_error = called.error();
            }
        }
    };
    auto error_out = [&](const std::string& explanation) {
        status_callback(Json{{"status", "error"}, {"job_explanation", explanation}});
    };

    // ART opened once (O_NOFOLLOW at ART), job_events relative to it: every event file and the
    // unpacked zip land in this directory, whatever the stream says.
    auto art = artifacts::ArtifactDir::create(result.artifact_dir);
    if (!art) {
        result.status = JobStatus::error;
        result.error = art.error().message;
        return result;
    }
    auto writer = events::JobEventWriter::open(art->fd(), art->path());
    if (!writer) {
        result.status = JobStatus::error;
        result.error = writer.error().message;
        return result;
    }
    EventFiles files(*writer, writer_threads());
    // Names pushed but not yet reported to hooks.on_event_written (which wants them on disk).
    std::vector<std::string> unreported;
    auto report_written = [&]() -> Status {
        if (unreported.empty()) {
            return {};
        }
        ARUNNER_TRY(files.finish());
        const fs::path dir = result.artifact_dir / "job_events";
        for (const std::string& file : unreported) {
            hooks.on_event_written(dir / file);
        }
        unreported.clear();
        return {};
    };
    auto push_event = [&](std::string_view file, std::string_view content) -> Status {
        ARUNNER_TRY(files.push(file, content));
        if (hooks.on_event_written) {
            unreported.emplace_back(file);
        }
        return {};
    };
    WireReader in(in_fd);
    std::optional<Error> idle_error;
    if (hooks.on_idle || hooks.on_event_written) {
        in.set_idle(
            [&]() {
                echo.flush();
                if (auto reported = report_written(); !reported && !idle_error) {
                    idle_error = reported.error();
                }
                if (hooks.on_idle) {
                    hooks.on_idle();
                }
            },
            hooks.idle_interval_ms);
    }
    bool saw_eof = false;
    std::string name;
    std::string text;
    std::string dumped;
    Json data;  // reused from line to line: fast_parse() overwrites it in place

    // One line the fast way, when there is no handler: an event or keepalive whose members say
    // plainly what to do, found by one scan of the line. Anything else is declined (nothing was
    // done) and built.
    enum class Fast { declined, done, failed };
    auto fast_event = [&](std::string_view line) -> Fast {
        Members m;
        if (!scan_members(line, m) || m.status.kind != Member::absent ||
            m.zipfile.kind != Member::absent || m.eof.kind != Member::absent) {
            return Fast::declined;
        }
        if (m.event.kind != Member::absent) {
            if (m.event.kind != Member::string || m.event.escaped) {
                return Fast::declined;
            }
            if (m.event.raw == "keepalive") {
                return Fast::done;
            }
        }
        auto counter = member_truthy(m.counter);
        if (counter && !*counter) {
            return Fast::done;
        }
        auto uuid = member_truthy(m.uuid);
        if (!counter || !uuid) {
            return Fast::declined;
        }
        if (!*uuid) {
            return Fast::done;
        }
        // Only the plain shapes are named here; anything else (a refusal included) is built and
        // named by the slow path, which reports the field.
        if (m.counter.kind != Member::integer || m.uuid.kind != Member::string || m.uuid.escaped) {
            return Fast::declined;
        }
        auto named = events::JobEventWriter::file_name(m.counter.raw, m.uuid.raw);
        if (!named) {
            return Fast::declined;
        }
        name = std::move(*named);
        if (echo_stdout && m.stdout_text.kind != Member::absent) {
            if (m.stdout_text.kind != Member::string) {
                return Fast::declined;
            }
            text.clear();
            decode_string(m.stdout_text.raw, text);
            echo.line(text);  // print(event['stdout'])
        }
        // The event is exactly the line: both ends write Python JSON.
        if (auto written = push_event(name, line); !written) {
            error_out(written.error().message);
            return Fast::failed;
        }
        return Fast::done;
    };

    for (;;) {
        auto line = in.read_line_view();
        if (!line) {
            error_out(line.error().message);
            break;
        }
        if (!*line) {
            break;  // end of stream: reported below unless eof came first
        }
        std::string_view raw = **line;
        if (!cb.event_handler) {
            Fast done = fast_event(raw);
            if (done == Fast::done) {
                continue;
            }
            if (done == Fast::failed) {
                saw_eof = true;
                break;
            }
        }
        bool too_deep = false;
        if (!detail::fast_parse(raw, data)) {
            data = util::parse_json_bounded(raw, too_deep);
        }
        if (!data.is_object()) {
            std::string reason = too_deep ? "nested more than " +
                                                std::to_string(util::kMaxJsonDepth) + " levels deep"
                                 : data.is_discarded() ? "not valid JSON"
                                                       : "not a JSON object";
            error_out(parse_error(reason, raw));
            saw_eof = true;  // already reported
            break;
        }
        if (data.contains("status")) {
            status_callback(data);
        } else if (data.contains("zipfile")) {
            // Every event file is written before the artifacts land on top of them (a write
            // error is reported by the next push or at the end, as before).
            (void)files.finish();
            (void)report_written();
            Status unpacked = receive_zip(in, data["zipfile"], result.artifact_dir, options.limits,
                                          LinkTargets::inside);
            if (!unpacked) {
                error_out("Failed to extract the artifacts from the worker stream: " +
                          unpacked.error().message);
                saw_eof = true;
                break;
            }
            if (auto opened = files.reopen_dir(); !opened) {
                error_out(opened.error().message);
                saw_eof = true;
                break;
            }
            if (cb.artifacts_handler) {
                echo.flush();
                Status called = guarded("artifacts_handler",
                                        [&] { cb.artifacts_handler(result.artifact_dir); });
                if (!called && !callback_error) {
                    callback_error = called.error();
                }
            }
        } else if (data.contains("eof")) {
            saw_eof = true;
            result.saw_eof = true;
            result.bytes_after_eof = in.buffered();
            break;
        } else if (auto event = data.find("event");
                   event != data.end() && event->is_string() && *event == "keepalive") {
            continue;
        } else {
            if (!util::python_truthy(data.value("counter", Json())) ||
                !util::python_truthy(data.value("uuid", Json()))) {
                continue;
            }
            if (echo_stdout && data.contains("stdout")) {
                echo.line(data["stdout"].is_string() ? data["stdout"].get<std::string>()
                                                     : data["stdout"].dump());
            }
            // Named before the handler sees it: an event that cannot name a file is an error.
            auto named = events::JobEventWriter::file_name(data);
            if (!named) {
                error_out(named.error().message);
                saw_eof = true;
                break;
            }
            bool write = true;
            if (cb.event_handler) {
                echo.flush();
                Status called = guarded("event_handler", [&] { write = cb.event_handler(data); });
                if (!called) {
                    error_out(called.error().message);
                    saw_eof = true;
                    break;
                }
            }
            if (write) {
                // Without a handler the event is exactly the line (both ends write Python JSON),
                // so the line is written as it came; a handler may have changed the event.
                std::string_view content = raw;
                if (cb.event_handler) {
                    dumped.clear();
                    util::python_json_dump(data, dumped);
                    content = dumped;
                }
                if (auto written = push_event(*named, content); !written) {
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
    if (auto reported = report_written(); !reported && result.status != JobStatus::error) {
        error_out(reported.error().message);
    }
    if (idle_error && result.status != JobStatus::error) {
        error_out(idle_error->message);
    }
    if (!saw_eof && hooks.stopped && hooks.stopped()) {
        result.error = "the worker was stopped";
    } else if (!saw_eof) {
        error_out("The worker stream was cut: it ended without {\"eof\": true}.");
    }
    if (callback_error && result.status != JobStatus::error) {
        result.status = JobStatus::error;
        result.error = callback_error->message;
    }
    echo.flush();
    return result;
}

}  // namespace
}  // namespace arunner::stream
