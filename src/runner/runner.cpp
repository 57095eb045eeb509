// arunner::Runner: ansible-runner's Runner object around one local job (runner/local_job.cpp),
// with the five callbacks, the event index behind events()/event_stream(), and the fact cache.

#include "arunner/runner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>

#include "artifacts/artifact_dir.hpp"
#include "config/job_config.hpp"
#include "exec/termination_signals.hpp"
#include "runner/container_worker_job.hpp"
#include "runner/local_job.hpp"
#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/read_beneath.hpp"
#include "util/unique_fd.hpp"

namespace arunner {

struct Runner::State {
    RunOptions options;  // what the job was prepared from (a worker container transmits them)
    config::JobConfig job;
    RunCallbacks callbacks;
    int console_fd = 1;

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    JobStatus status = JobStatus::unstarted;
    std::optional<int> rc;
    bool canceled = false;
    bool timed_out = false;
    bool errored = false;
    bool started = false;
    bool done = false;
    std::string error_message;
    int failures = 0;  // calls of fail(): a handler that failed the job
    std::vector<std::filesystem::path> event_files;  // written this run, in counter order
    std::thread thread;
    // Written to when a callback fails, so the supervisor kills the child at once.
    util::UniqueFd abort_read;
    util::UniqueFd abort_write;
    // Whether SIGINT/SIGTERM should cancel (decided on the thread that called run or start).
    bool default_signal_handling = false;
};

namespace {

std::string what_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

bool on_main_thread() {
    return ::getpid() == ::gettid();
}

/// ART's files can be rewritten by a container job: read without following a link out of
/// their directory, never blocking, and bounded (util/read_beneath.hpp).
constexpr size_t kMaxOutputFileBytes = size_t{256} << 20;
constexpr size_t kMaxEventFileBytes = size_t{64} << 20;

Result<Json> read_json_file(const std::filesystem::path& path) {
    util::ReadBounds bounds;
    bounds.max_bytes = kMaxEventFileBytes;
    ARUNNER_ASSIGN_OR_RETURN(
        auto text, util::read_file_beneath(path.parent_path().string(), path.filename().string(),
                                           path.string(), bounds));
    if (!text) {
        return Error{path.string() + ": missing"};
    }
    bool too_deep = false;
    Json parsed = util::parse_json_bounded(*text, too_deep);
    if (parsed.is_discarded()) {
        return Error{path.string() + ": not valid JSON"};
    }
    return parsed;
}

}  // namespace

Runner::Runner(std::unique_ptr<State> state) : state_(std::move(state)) {}

Runner::~Runner() {
    if (state_->thread.joinable()) {
        if (state_->thread.get_id() == std::this_thread::get_id()) {
            state_->thread.detach();  // the job's own thread dropped the last reference
        } else {
            state_->thread.join();
        }
    }
    config::remove_made_for_run(state_->job);  // a job created and never run
    if (state_->job.temporary_private_data_dir) {
        (void)util::remove_tree(state_->job.private_data_dir);
    }
}

Result<std::shared_ptr<Runner>> Runner::create(const RunOptions& options, RunCallbacks callbacks) {
    auto state = std::make_unique<State>();
    ARUNNER_ASSIGN_OR_RETURN(state->job, config::prepare_job(options));
    state->options = options;
    state->callbacks = std::move(callbacks);
    state->console_fd = options.console_fd;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        config::remove_made_for_run(state->job);
        if (state->job.temporary_private_data_dir) {
            (void)util::remove_tree(state->job.private_data_dir);
        }
        return Error{"cannot create a pipe for the job"};
    }
    state->abort_read.reset(fds[0]);
    state->abort_write.reset(fds[1]);
    return std::shared_ptr<Runner>(new Runner(std::move(state)));
}

void Runner::run() {
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->started) {
            return;
        }
        state_->started = true;
        state_->default_signal_handling = !state_->callbacks.cancel_callback && on_main_thread();
    }
    execute();
}

void Runner::start() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->started) {
        return;
    }
    state_->started = true;
    state_->default_signal_handling = !state_->callbacks.cancel_callback && on_main_thread();
    state_->thread = std::thread([self = shared_from_this()] { self->execute(); });
}

void Runner::execute() {
    State& s = *state_;
    // Calls one of the caller's callbacks: an exception out of it fails the job, named after the
    // callback as ansible-runner names it ("Exception in Event Handler: ..."), and the callback
    // is taken to have returned false (cancel and event handlers) or nothing.
    auto guarded = [this](const char* callback, auto&& call) {
        using Returned = decltype(call());
        try {
            return call();
        } catch (...) {
            this->fail(Error{std::string("Exception in ") + callback + ": " +
                             what_of(std::current_exception())});
            if constexpr (!std::is_void_v<Returned>) {
                return Returned{};
            }
        }
    };
    std::optional<exec::TerminationSignals> signals;
    if (s.default_signal_handling) {
        signals.emplace();
    }

    runner::JobHooks hooks;
    hooks.console_fd = s.console_fd;
    hooks.cancel_fds = {s.abort_read.get(), signals ? signals->fd() : -1};
    hooks.on_worker_status = [&](const StatusUpdate& update) {
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            s.status = update.status;
        }
        s.changed.notify_all();
        if (!s.callbacks.status_handler) {
            return;
        }
        guarded("Status Handler", [&] { s.callbacks.status_handler(update); });
    };
    hooks.on_status = [&](JobStatus status) {
        StatusUpdate update;
        update.status = status;
        update.runner_ident = s.job.ident;
        if (status == JobStatus::starting) {
            update.command = s.job.command;
            update.env = s.job.env.entries();
            update.cwd = s.job.cwd.string();
        }
        hooks.on_worker_status(update);
    };
    if (s.callbacks.cancel_callback) {
        hooks.should_cancel = [&]() {
            return guarded("Cancel Callback", [&] { return s.callbacks.cancel_callback(); });
        };
    }
    if (s.callbacks.event_handler) {
        hooks.event_handler = [&](Json& event) {
            return guarded("Event Handler", [&] { return s.callbacks.event_handler(event); });
        };
    }
    hooks.on_event_written = [&](const std::filesystem::path& file) {
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            s.event_files.push_back(file);
        }
        s.changed.notify_all();
    };
    hooks.failed = [&]() {
        std::lock_guard<std::mutex> lock(s.mutex);
        return s.errored;
    };

    auto outcome = s.job.worker_container
                       ? runner::run_worker_container_job(s.options, s.job, hooks)
                       : runner::run_job(s.job, hooks);
    if (outcome) {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.status = outcome->status;
        s.rc = outcome->rc;
        s.canceled = outcome->canceled;
        s.timed_out = outcome->timed_out;
    } else {
        this->fail(Error{outcome.error().message});
        record_error_status();
    }
    s.changed.notify_all();
    config::remove_made_for_run(s.job);

    // A handler that fails the job (by throwing or by calling fail()) leaves an `error` status.
    auto failures = [&s]() {
        std::lock_guard<std::mutex> lock(s.mutex);
        return s.failures;
    };
    if (s.callbacks.artifacts_handler) {
        int before = failures();
        guarded("Artifact Callback", [&] { s.callbacks.artifacts_handler(s.job.artifact_dir); });
        if (failures() != before) {
            record_error_status();
        }
    }
    if (s.callbacks.finished_callback) {
        int before = failures();
        guarded("Finished Callback", [&] { s.callbacks.finished_callback(*this); });
        if (failures() != before) {
            record_error_status();
        }
    }
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.done = true;
    }
    s.changed.notify_all();
}

void Runner::fail(const Error& error) {
    State& s = *state_;
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        ++s.failures;
        if (!s.errored) {
            s.errored = true;
            s.error_message = error.message;
        }
    }
    char byte = 1;
    [[maybe_unused]] ssize_t n = ::write(s.abort_write.get(), &byte, 1);
}

void Runner::record_error_status() {
    State& s = *state_;
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.status = JobStatus::error;
        s.rc = 1;
    }
    // Best effort: ART may be what could not be written. Through an O_NOFOLLOW open of ART:
    // if the job swapped ART for a symlink, nothing is written rather than written through it.
    std::error_code ec;
    if (std::filesystem::is_directory(s.job.artifact_dir, ec)) {
        (void)artifacts::write_art_file(s.job.artifact_dir, "status", to_string(JobStatus::error),
                                        true);
        (void)artifacts::write_art_file(s.job.artifact_dir, "rc", "1", true);
    }
}

void Runner::wait() const {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->changed.wait(lock, [&] { return state_->done || !state_->started; });
}

bool Runner::done() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->done;
}

JobStatus Runner::status() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->status;
}

std::optional<int> Runner::rc() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->rc;
}

bool Runner::canceled() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->canceled;
}

bool Runner::timed_out() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->timed_out;
}

bool Runner::errored() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->errored;
}

std::string Runner::error_message() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->error_message;
}

const std::string& Runner::ident() const {
    return state_->job.ident;
}

void Runner::hand_over_run_files() {
    state_->job.remove_after_run.clear();
    state_->job.temporary_private_data_dir = false;
}

const std::filesystem::path& Runner::private_data_dir() const {
    return state_->job.private_data_dir;
}
const std::filesystem::path& Runner::artifact_dir() const {
    return state_->job.artifact_dir;
}
const std::vector<std::string>& Runner::command() const {
    return state_->job.command;
}
const std::string& Runner::cwd() const {
    return state_->job.cwd.native();
}

std::vector<Json> Runner::events() const {
    std::vector<std::filesystem::path> files;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        files = state_->event_files;
    }
    std::vector<Json> events;
    events.reserve(files.size());
    for (const auto& file : files) {
        if (auto event = read_json_file(file)) {
            events.push_back(std::move(event.value()));
        }
    }
    return events;
}

EventStream Runner::event_stream() const {
    return EventStream(shared_from_this());
}

std::optional<Json> EventStream::next() {
    const auto& state = *runner_->state_;
    for (;;) {
        std::filesystem::path file;
        {
            std::unique_lock<std::mutex> lock(state.mutex);
            state.changed.wait(lock, [&] {
                return position_ < state.event_files.size() || state.done || !state.started;
            });
            if (position_ >= state.event_files.size()) {
                return std::nullopt;
            }
            file = state.event_files[position_++];
        }
        if (auto event = read_json_file(file)) {
            return std::move(event.value());
        }
        // A file removed or rewritten by someone else is skipped, as ansible-runner does.
    }
}

std::optional<Json> Runner::stats() const {
    // The job's last playbook_on_stats: ansible emits it once, at the very end, so one seen
    // earlier was not the end of the job (docs/frames.md, "What can forge an event").
    const std::vector<Json> all = events();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        const Json& event = *it;
        if (!event.is_object() || !event.contains("event") ||
            event["event"] != "playbook_on_stats") {
            continue;
        }
        const Json& data = event.contains("event_data") ? event["event_data"] : Json::object();
        Json summary = Json::object();
        for (const char* key :
             {"skipped", "ok", "dark", "failures", "ignored", "rescued", "processed", "changed"}) {
            summary[key] = data.contains(key) ? data[key] : Json::object();
        }
        return summary;
    }
    return std::nullopt;
}

std::vector<Json> Runner::host_events(const std::string& host) const {
    std::vector<Json> matching;
    for (auto& event : events()) {
        if (event.contains("event_data") && event["event_data"].is_object() &&
            event["event_data"].contains("host") && event["event_data"]["host"] == host) {
            matching.push_back(std::move(event));
        }
    }
    return matching;
}

namespace {

/// ART/stdout or ART/stderr, read as a file the job could have replaced (util/read_beneath.hpp).
Result<std::string> read_output_file(const std::filesystem::path& art, const std::string& name) {
    util::ReadBounds bounds;
    bounds.max_bytes = kMaxOutputFileBytes;
    ARUNNER_ASSIGN_OR_RETURN(
        auto text, util::read_file_beneath(art.string(), name, (art / name).string(), bounds));
    if (!text) {
        return Error{name + " missing"};
    }
    return std::move(*text);
}

}  // namespace

Result<std::string> Runner::stdout_text() const {
    return read_output_file(state_->job.artifact_dir, "stdout");
}

Result<std::string> Runner::stderr_text() const {
    return read_output_file(state_->job.artifact_dir, "stderr");
}

Result<Json> Runner::get_fact_cache(const std::string& host) const {
    if (host.empty() || host.find('/') != std::string::npos || host == "." || host == "..") {
        return Json::object();
    }
    const std::filesystem::path& dir = state_->job.fact_cache_dir;
    ARUNNER_ASSIGN_OR_RETURN(auto text,
                             util::read_file_beneath(dir.string(), host, (dir / host).string()));
    if (!text) {
        return Json::object();
    }
    bool too_deep = false;
    Json parsed = util::parse_json_bounded(*text, too_deep);
    if (parsed.is_discarded()) {
        return Error{(dir / host).string() + ": not valid JSON"};
    }
    return parsed;
}

Status Runner::set_fact_cache(const std::string& host, const Json& facts) const {
    if (host.empty() || host.find('/') != std::string::npos) {
        return Error{"set_fact_cache: '" + host + "' cannot name a fact cache file"};
    }
    const auto& job = state_->job;
    std::string content = util::python_json_dumps(facts);
    auto rel = job.fact_cache_dir.lexically_relative(job.artifact_dir);
    bool beneath_art = !rel.empty() && *rel.begin() != "..";
    if (!beneath_art) {  // a fact cache the user placed elsewhere: theirs, written as given
        ARUNNER_TRY(util::make_dirs(job.fact_cache_dir, 0700));
        return util::write_file(job.fact_cache_dir / host, content, 0600);
    }
    // Under ART (the job's writable mount): from ART's fd down, following no symlink.
    ARUNNER_TRY(util::make_dirs(job.artifact_dir.parent_path(), 0700));
    ARUNNER_ASSIGN_OR_RETURN(
        auto dir, util::make_dir_at(AT_FDCWD, job.artifact_dir.string(), 0700, job.artifact_dir));
    std::filesystem::path shown = job.artifact_dir;
    for (const auto& part : rel) {
        if (part == ".") {
            continue;
        }
        shown /= part;
        ARUNNER_ASSIGN_OR_RETURN(dir, util::make_dir_at(dir.get(), part.string(), 0700, shown));
    }
    return util::write_file_at(dir.get(), host, content, 0600, shown / host);
}

Result<std::shared_ptr<Runner>> run(const RunOptions& options, RunCallbacks callbacks) {
    auto runner = Runner::create(options, std::move(callbacks));
    if (runner) {
        (*runner)->run();
    }
    return runner;
}

Result<std::shared_ptr<Runner>> run_async(const RunOptions& options, RunCallbacks callbacks) {
    auto runner = Runner::create(options, std::move(callbacks));
    if (runner) {
        (*runner)->start();
    }
    return runner;
}

}  // namespace arunner
