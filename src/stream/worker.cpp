#include "stream/worker.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "arunner/runner.hpp"
#include "stream/job_kwargs.hpp"
#include "stream/spool_file.hpp"
#include "stream/wire.hpp"
#include "stream/zip_writer.hpp"
#include "util/files.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

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

/// The private data dir of this worker, and its removal at the end when it is ours to remove.
class WorkDir {
  public:
    static Result<WorkDir> open(const WorkerOptions& options) {
        WorkDir dir;
        if (options.private_data_dir) {
            dir.path_ = util::absolute_path(*options.private_data_dir);
            dir.remove_at_end_ = options.delete_dir;
            if (options.delete_dir) {
                std::error_code ec;
                fs::remove_all(dir.path_, ec);
            }
            ARUNNER_TRY(util::make_dirs(dir.path_, 0700));
        } else {
            std::string templ = (fs::temp_directory_path() / "arunner-worker-XXXXXX").string();
            if (::mkdtemp(templ.data()) == nullptr) {
                return util::errno_error("cannot create a temp dir like", templ, errno);
            }
            dir.path_ = templ;
            dir.remove_at_end_ = true;
        }
        // Held for the worker's whole life: `worker cleanup` never touches a locked dir.
        fs::path lock_file = dir.path_ / kWorkerLockFile;
        dir.lock_.reset(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!dir.lock_.valid()) {
            return util::errno_error("cannot create", lock_file, errno);
        }
        if (::flock(dir.lock_.get(), LOCK_EX | LOCK_NB) != 0) {
            return Error{"private data dir " + dir.path_.string() + " is in use by another worker"};
        }
        return dir;
    }
    WorkDir() = default;
    WorkDir(WorkDir&&) = default;
    ~WorkDir() {
        if (remove_at_end_ && !path_.empty()) {
            std::error_code ec;
            fs::remove_all(path_, ec);
        }
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
    bool remove_at_end_ = false;
    util::UniqueFd lock_;
};

Json status_line(const StatusUpdate& update) {
    Json line = Json::object();
    line["status"] = std::string(to_string(update.status));
    line["runner_ident"] = update.runner_ident;
    if (update.status == JobStatus::starting) {
        line["command"] = update.command;
        Json env = Json::object();
        for (const auto& [name, value] : update.env) {
            env[name] = value;
        }
        line["env"] = std::move(env);
        line["cwd"] = update.cwd;
    }
    return line;
}

int fail(WireWriter& out, Json error_line, int exit_code) {
    (void)out.write_json(error_line);
    (void)out.write_eof();
    return exit_code;
}

Json error_line(const std::string& explanation) {
    return Json{{"status", "error"}, {"job_explanation", explanation}};
}

}  // namespace

int run_worker(int in_fd, int out_fd, const WorkerOptions& options) {
    WireWriter out(out_fd);
    auto dir = WorkDir::open(options);
    if (!dir) {
        return fail(out,
                    error_line("Failed to prepare the private data directory on worker: " +
                               dir.error().message),
                    1);
    }
    WireReader in(in_fd);
    std::optional<Json> kwargs;
    for (;;) {
        auto line = in.read_line();
        if (!line || !*line) {
            return fail(out, error_line("Failed to JSON parse a line from transmit stream."), 0);
        }
        Json data = Json::parse(**line, nullptr, false);
        if (!data.is_object()) {
            return fail(out, error_line("Failed to JSON parse a line from transmit stream."), 0);
        }
        if (data.contains("kwargs")) {
            kwargs = data["kwargs"];
        } else if (data.contains("zipfile")) {
            Status extracted = receive_zip(in, data["zipfile"], dir->path(), options.limits);
            if (!extracted) {
                Json line = error_line("Failed to extract private data directory on worker.");
                line["result_traceback"] = extracted.error().message;
                return fail(out, line, 0);
            }
        } else if (data.contains("eof")) {
            break;
        }
    }
    if (!kwargs) {
        return fail(out, error_line("The transmit stream has no kwargs line."), 1);
    }
    auto run_options = from_kwargs(*kwargs, dir->path());
    if (!run_options) {
        return fail(out, error_line(run_options.error().message), 1);
    }
    run_options->quiet = true;
    run_options->console_fd = -1;

    Keepalive keepalive(out, options.keepalive_seconds);
    Status stream_ok;
    RunCallbacks callbacks;
    callbacks.status_handler = [&](const StatusUpdate& update) {
        Status written = out.write_json(status_line(update));
        if (!written) {
            throw std::runtime_error(written.error().message);
        }
    };
    callbacks.event_handler = [&](Json& event) {
        Status written = out.write_json(event);
        if (!written) {
            throw std::runtime_error(written.error().message);
        }
        return false;  // the worker keeps no event files; the processor writes them
    };
    callbacks.artifacts_handler = [&](const fs::path& artifact_dir) {
        auto spool = SpoolFile::create();
        Status zipped = spool ? write_zip(artifact_dir, spool->fd()) : Status(spool.error());
        if (zipped) {
            zipped = out.write_zip(spool->path());
        }
        if (!zipped) {
            throw std::runtime_error(zipped.error().message);
        }
    };
    auto runner = Runner::create(*run_options, callbacks);
    if (!runner) {
        keepalive.stop();
        return fail(out, error_line(runner.error().message), 1);
    }
    (*runner)->run();
    keepalive.stop();
    if ((*runner)->errored()) {
        // The status line of the failure may not have gone out: say it again, then end.
        Json line = error_line((*runner)->error_message());
        line["runner_ident"] = (*runner)->ident();
        return fail(out, line, 1);
    }
    (void)out.write_eof();
    return (*runner)->rc().value_or(0);
}

}  // namespace arunner::stream
