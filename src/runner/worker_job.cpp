#include "runner/worker_job.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "arunner/runner.hpp"
#include "exec/termination_signals.hpp"
#include "runner/worker_cleanup.hpp"
#include "stream/job_kwargs.hpp"
#include "stream/spool_file.hpp"
#include "stream/wire.hpp"
#include "stream/zip_writer.hpp"
#include "util/environment.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using stream::from_kwargs;
using stream::receive_zip;
using stream::SpoolFile;
using stream::WireReader;
using stream::WireWriter;
using stream::write_zip;

/// Writes keepalive lines while it lives, whenever the stream has been quiet for `interval`.
class Keepalive {
  public:
    Keepalive(WireWriter& writer, double seconds) : writer_(writer) {
        if (seconds <= 0) {
            return;
        }
        auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(seconds));
        thread_ = std::thread([this, interval] {
            std::unique_lock<std::mutex> lock(mutex_);
            while (!stop_) {
                auto due = writer_.last_write() + interval;
                if (std::chrono::steady_clock::now() >= due) {
                    writer_.try_write_keepalive();
                    due = std::chrono::steady_clock::now() + interval;
                }
                wake_.wait_until(lock, due, [this] { return stop_; });
            }
        });
    }
    ~Keepalive() { stop(); }
    /// Stops the thread; no keepalive is written after this returns.
    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

  private:
    WireWriter& writer_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
};

/// The private data dir of this worker, locked for its whole life, and its removal at the end
/// when it is ours to remove. The lock is a flock on the dir's own fd (docs/worker-lock.md): it is
/// taken before anything in the dir is touched, and no file inside the dir stands for it.
class WorkDir {
  public:
    static Result<WorkDir> open(const WorkerOptions& options) {
        WorkDir dir;
        if (!options.private_data_dir) {
            ARUNNER_ASSIGN_OR_RETURN(dir.path_, util::make_temp_dir("arunner-worker-"));
            dir.remove_at_end_ = true;
            ARUNNER_TRY(dir.lock());
            return dir;
        }
        dir.path_ = util::absolute_path(*options.private_data_dir);
        ARUNNER_TRY(dir.lock());
        // Only now that no other worker can be in it: --delete empties it (ansible-runner
        // removes and re-creates it; emptying keeps the lock on the very dir the job uses).
        if (options.delete_dir) {
            ARUNNER_TRY(empty_dir(dir.fd_.get(), dir.path_));
            dir.remove_at_end_ = true;
        }
        return dir;
    }
    WorkDir() = default;
    WorkDir(WorkDir&&) = default;
    ~WorkDir() {
        if (remove_at_end_ && fd_.valid()) {
            (void)remove_locked_dir(path_, fd_.get());
        }
    }
    const fs::path& path() const { return path_; }

  private:
    /// Creates the dir if needed, opens it (never through a symlink) and locks it. Tries again
    /// when the dir it locked is no longer the one at the path (removed by the worker before).
    Status lock() {
        for (int attempt = 0; attempt < 5; ++attempt) {
            ARUNNER_TRY(util::make_dirs(path_, 0700));
            fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd_.valid()) {
                if (errno == ENOENT) {
                    continue;
                }
                return util::errno_error("cannot open the private data dir", path_, errno);
            }
            if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
                fd_.reset();
                return Error{"private data dir " + path_.string() + " is in use by another worker"};
            }
            struct stat held {};
            struct stat named {};
            if (::fstat(fd_.get(), &held) == 0 && ::lstat(path_.c_str(), &named) == 0 &&
                held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
                return {};
            }
            fd_.reset();
        }
        return Error{"private data dir " + path_.string() + " keeps changing; not locked"};
    }

    fs::path path_;
    bool remove_at_end_ = false;
    util::UniqueFd fd_;  // holds the lock
};

Json status_line(const StatusUpdate& update) {
    Json line = Json::object();
    line["status"] = std::string(to_string(update.status));
    line["runner_ident"] = update.runner_ident;
    if (update.status == JobStatus::starting) {
        line["command"] = update.command;
        Json env = Json::object();
        // Secret-looking values stay on the worker (docs/stream.md): the stream reaches
        // the controller's logs and handlers (AWX users asked for this, awx #16141).
        for (const auto& [name, value] : update.env) {
            env[name] = util::looks_secret(name) ? std::string(util::kHiddenValue) : value;
        }
        line["env"] = std::move(env);
        line["cwd"] = update.cwd;
    }
    return line;
}

/// Counts the values of a JSON text without building them (nlohmann's SAX interface), stopping
/// at `limit`: a DOM of small values costs 16+ bytes per value of 2 bytes of text, so a line of
/// 64 MiB of `[0,0,...]` would need over 1 GB.
struct ValueCounter {
    size_t count = 0;
    size_t limit;
    bool more() { return ++count <= limit; }
    bool null() { return more(); }
    bool boolean(bool) { return more(); }
    bool number_integer(Json::number_integer_t) { return more(); }
    bool number_unsigned(Json::number_unsigned_t) { return more(); }
    bool number_float(Json::number_float_t, const Json::string_t&) { return more(); }
    bool string(Json::string_t&) { return more(); }
    bool binary(Json::binary_t&) { return more(); }
    bool start_object(size_t) { return more(); }
    bool key(Json::string_t&) { return true; }
    bool end_object() { return true; }
    bool start_array(size_t) { return more(); }
    bool end_array() { return true; }
    bool parse_error(size_t, const std::string&, const Json::exception&) { return false; }
};

/// Zips the artifact dir (spooled to a temp file) onto the stream.
Status send_artifacts(WireWriter& out, const fs::path& artifact_dir) {
    ARUNNER_ASSIGN_OR_RETURN(SpoolFile spool, SpoolFile::create());
    ARUNNER_TRY(write_zip(artifact_dir, spool.fd()));
    return out.write_zip(spool.path());
}

/// The most values a job stream line may hold (its kwargs: a few dozen in practice).
constexpr size_t kMaxLineValues = size_t{1} << 20;

/// Ends the stream with `line` and eof; returns `exit_code`.
int finish(WireWriter& out, const Json& line, int exit_code) {
    (void)out.write_json(line);
    (void)out.write_eof();
    return exit_code;
}

/// Ends the stream with the `error` status line `line` and eof; returns why, as an Error.
Error fail(WireWriter& out, const Json& line) {
    (void)finish(out, line, 1);
    std::string message = line.value("job_explanation", "");
    if (auto traceback = line.find("result_traceback"); traceback != line.end()) {
        message += ": " + traceback->get<std::string>();
    }
    return Error{message};
}

Json error_line(const std::string& explanation) {
    return Json{{"status", "error"}, {"job_explanation", explanation}};
}

}  // namespace

Result<int> run_worker(int in_fd, int out_fd, const WorkerOptions& options) {
    // Installed before the dir exists: a signal at any point ends the worker through the
    // destructors below (temp dir, spool file), never by the default action.
    exec::TerminationSignals signals;
    WireWriter out(out_fd);
    if (Status keepalive = util::check_seconds(options.keepalive_seconds, "keepalive", "");
        !keepalive) {
        return fail(out, error_line(keepalive.error().message));
    }
    auto dir = WorkDir::open(options);
    if (!dir) {
        return fail(out, error_line("Failed to prepare the private data directory on worker: " +
                                    dir.error().message));
    }
    WireReader in(in_fd);
    in.set_interrupt_fd(signals.fd());
    auto interrupted = [&]() {
        int signal = signals.received();
        return finish(out,
                      error_line("The worker received signal " + std::to_string(signal) +
                                 " while it was receiving the job."),
                      128 + signal);
    };
    std::optional<Json> kwargs;
    for (;;) {
        auto line = in.read_line_view(options.max_line_bytes);
        if (!line && signals.received() != 0) {
            return interrupted();
        }
        if (!line) {
            Json error = error_line("Failed to read a line from transmit stream.");
            error["result_traceback"] = line.error().message;
            return fail(out, error);
        }
        if (!*line) {
            return finish(out, error_line("Failed to JSON parse a line from transmit stream."), 0);
        }
        if ((*line)->size() > (size_t{1} << 20)) {
            ValueCounter counter{0, kMaxLineValues};
            (void)Json::sax_parse(**line, &counter);
            if (counter.count > kMaxLineValues) {
                return fail(out, error_line("A line of the transmit stream holds more than " +
                                            std::to_string(kMaxLineValues) + " JSON values."));
            }
        }
        Json data = Json::parse(**line, nullptr, false);
        if (!data.is_object()) {
            return finish(out, error_line("Failed to JSON parse a line from transmit stream."), 0);
        }
        if (auto it = data.find("kwargs"); it != data.end()) {
            kwargs = std::move(*it);
        } else if (auto zip = data.find("zipfile"); zip != data.end()) {
            Status extracted = receive_zip(in, *zip, dir->path(), options.limits);
            if (!extracted && signals.received() != 0) {
                return interrupted();
            }
            if (!extracted) {
                Json error = error_line("Failed to extract private data directory on worker.");
                error["result_traceback"] = extracted.error().message;
                return finish(out, error, 0);
            }
        } else if (data.contains("eof")) {
            break;
        }
    }
    if (!kwargs) {
        return fail(out, error_line("The transmit stream has no kwargs line."));
    }
    Json merged = options.kwargs.is_object() ? options.kwargs : Json::object();
    if (kwargs->is_object()) {
        for (const auto& [key, value] : kwargs->items()) {
            merged[key] = value;
        }
    } else {
        merged = *kwargs;  // not a mapping: from_kwargs says so
    }
    auto run_options = from_kwargs(merged, dir->path());
    if (!run_options) {
        return fail(out, error_line(run_options.error().message));
    }
    run_options->quiet = true;
    run_options->console_fd = -1;
    // A worker runs its job here: `container_worker` in the job's env/settings is the
    // controller's choice, already made (docs/container-worker.md).
    run_options->container_worker = false;

    Keepalive keepalive(out, options.keepalive_seconds);
    // A write that fails ends the job in an error, with the words ansible-runner uses for a
    // handler that raised (the runner is set before any handler is called).
    std::shared_ptr<Runner> job;
    auto failed = [&job](const char* handler, const Status& written) {
        if (!written) {
            job->fail(
                Error{std::string("Exception in ") + handler + ": " + written.error().message});
        }
    };
    RunCallbacks callbacks;
    callbacks.status_handler = [&](const StatusUpdate& update) {
        if (options.on_status) {
            options.on_status(update.status);
        }
        failed("Status Handler", out.write_json(status_line(update)));
    };
    callbacks.event_handler = [&](Json& event) {
        failed("Event Handler", out.write_json(event));
        return false;  // the worker keeps no event files; the processor writes them
    };
    callbacks.artifacts_handler = [&](const fs::path& artifact_dir) {
        failed("Artifact Callback", send_artifacts(out, artifact_dir));
    };
    auto runner = Runner::create(*run_options, callbacks);
    if (!runner) {
        keepalive.stop();
        return fail(out, error_line(runner.error().message));
    }
    job = *runner;
    job->run();
    keepalive.stop();
    if (job->errored()) {
        // The status line of the failure may not have gone out: say it again, then end.
        Json line = error_line(job->error_message());
        line["runner_ident"] = job->ident();
        return fail(out, line);
    }
    (void)out.write_eof();
    return job->rc().value_or(0);
}

}  // namespace arunner::runner
