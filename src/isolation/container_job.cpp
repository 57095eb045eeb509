#include "isolation/container_job.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "artifacts/artifact_dir.hpp"
#include "engine/rest_container_engine.hpp"
#include "isolation/container_spec.hpp"
#include "isolation/container_sweep.hpp"
#include "util/files.hpp"
#include "util/unique_fd.hpp"

namespace arunner::isolation {
namespace {

// How long a stopped container's command gets between SIGTERM and SIGKILL.
constexpr int kStopGraceSeconds = 2;

engine::EngineDialect dialect_of(const std::string& engine) {
    return engine == "docker" ? engine::EngineDialect::docker : engine::EngineDialect::podman;
}

/// The container as the supervisor sees it: the attach socket is the output stream, a thread
/// blocked in the engine's wait signals the exit through a pipe, and kill() stops the container.
class SupervisedContainer final : public exec::SupervisedJob {
  public:
    SupervisedContainer(engine::ContainerEngine& engine, std::string id,
                        engine::AttachStream stream, util::UniqueFd exit_read)
        : engine_(engine),
          id_(std::move(id)),
          stream_(std::move(stream)),
          demux_(stream_.tty()),
          exit_read_(std::move(exit_read)) {}

    /// The waiter's result: the exit code, or the error that ended the wait.
    void set_exit(Result<int> result) {
        std::lock_guard<std::mutex> lock(mutex_);
        exit_ = std::move(result);
    }

    int output_fd() const override { return stream_open_ ? stream_.fd() : -1; }
    int error_fd() const override { return -1; }
    int exit_fd() const override { return exit_read_.get(); }
    bool has_buffered_output() const override { return stream_open_ && stream_.has_pending(); }

    bool read_output(OutputStream, exec::OutputSink& sink, std::span<char> buffer, size_t,
                     bool& got_data) override {
        // One read per call: poll said the socket is readable, a second read could block.
        auto n = stream_.read(buffer);
        if (!n.ok() || *n == 0) {
            if (!n.ok()) {
                stream_error_ = n.error();
            } else if (auto finished = demux_.finish(); !finished.ok()) {
                stream_error_ = finished.error();
            }
            stream_open_ = false;
            return false;
        }
        got_data = true;
        auto fed = demux_.feed(
            std::string_view(buffer.data(), *n), [&](OutputStream which, std::string_view bytes) {
                sink.on_output(which == OutputStream::out ? OutputStream::out : OutputStream::err,
                               bytes);
            });
        if (!fed.ok()) {
            stream_error_ = fed.error();
            stream_open_ = false;
            return false;
        }
        return true;
    }

    std::optional<int> try_wait() override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!exit_) {
            return std::nullopt;
        }
        return status_of(*exit_);
    }

    int wait() override {
        for (;;) {
            if (auto status = try_wait()) {
                return *status;
            }
            char byte = 0;
            if (::read(exit_read_.get(), &byte, 1) < 0 && errno != EINTR) {
                ::usleep(10000);
            }
        }
    }

    void kill() override {
        if (stopped_.exchange(true)) {
            return;
        }
        // SIGTERM reaches the command through the container's init; SIGKILL after the grace.
        if (!engine_.stop(id_, kStopGraceSeconds).ok()) {
            (void)engine_.kill(id_, SIGKILL);
        }
    }

    void close_output() override { stream_open_ = false; }

    /// Why the output ended early, if it did.
    const std::optional<Error>& stream_error() const { return stream_error_; }
    /// Why the wait failed, if it did.
    std::optional<Error> wait_error() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (exit_ && !exit_->ok()) {
            return exit_->error();
        }
        return std::nullopt;
    }

  private:
    static int status_of(const Result<int>& exit) {
        if (!exit.ok()) {
            return W_EXITCODE(255, 0);
        }
        // As `podman run` exits: a command killed by signal N gives 128+N, an rc like any other.
        return W_EXITCODE(*exit & 0xff, 0);
    }

    engine::ContainerEngine& engine_;
    std::string id_;
    engine::AttachStream stream_;
    engine::StreamDemux demux_;
    util::UniqueFd exit_read_;
    bool stream_open_ = true;
    std::optional<Error> stream_error_;
    std::atomic<bool> stopped_{false};
    std::mutex mutex_;
    std::optional<Result<int>> exit_;
};

/// Removes the container on every path out of run_container.
class RemoveGuard {
  public:
    RemoveGuard(engine::ContainerEngine& engine, std::string id)
        : engine_(engine), id_(std::move(id)) {}
    RemoveGuard(const RemoveGuard&) = delete;
    RemoveGuard& operator=(const RemoveGuard&) = delete;
    ~RemoveGuard() {
        if (!done_) {
            (void)engine_.remove(id_, true);
        }
    }
    Status remove() {
        done_ = true;
        return engine_.remove(id_, true);
    }

  private:
    engine::ContainerEngine& engine_;
    std::string id_;
    bool done_ = false;
};

/// When create failed because a container already has `name`: an error that says whose it is.
std::optional<Error> name_conflict_error(engine::ContainerEngine& engine, const std::string& name,
                                         const Result<HostView>& host) {
    if (name.empty()) {
        return std::nullopt;
    }
    auto holder = engine.inspect(name);
    if (!holder) {
        return std::nullopt;  // nothing has the name: the failure was something else
    }
    std::string whose =
        "a container arunner did not create, or created before it labelled "
        "its containers; remove it by hand if it is stale";
    if (host) {
        if (auto live = live_controller(holder->labels, *host)) {
            whose = "the container of another job run by " + *live +
                    "; cancel that job or "
                    "choose another ident";
        }
    }
    return Error{"the container name " + name + " is already in use by container " +
                 holder->id.substr(0, 12) + ": " + whose};
}

}  // namespace

Result<PreparedContainer> prepare_container(const config::JobConfig& job) {
    if (!job.container) {
        return Error{"internal: prepare_container on a job that is not containerized"};
    }
    const config::ContainerJobConfig& c = *job.container;
    ARUNNER_ASSIGN_OR_RETURN(auto spec, make_container_spec(job));
    const engine::EngineDialect dialect = dialect_of(c.engine);
    ARUNNER_ASSIGN_OR_RETURN(
        auto connection, engine::connect_engine(dialect, c.engine_socket,
                                                "process isolation needs a " + c.engine +
                                                    " engine socket (--container-engine-socket)"));
    PreparedContainer prepared;
    prepared.engine = std::move(connection.engine);
    prepared.socket = connection.socket;
    prepared.spec = std::move(spec);
    if (auto ping = prepared.engine->ping(); !ping) {
        return Error{"the " + c.engine + " engine at " + prepared.socket.string() +
                     " cannot be used: " + ping.error().message};
    }
    ARUNNER_ASSIGN_OR_RETURN(auto exists, prepared.engine->image_exists(c.image));
    if (!exists) {
        return Error{"container image '" + c.image + "' is not present in the " + c.engine +
                     " engine at " + prepared.socket.string() +
                     "; arunner never pulls images: load it (`" + c.engine +
                     " load -i FILE`), or name a local image with --container-image "
                     "(scripts/build-ee builds localhost/arunner-ee)"};
    }
    return prepared;
}

Result<exec::Supervision> run_container(PreparedContainer& prepared,
                                        const std::filesystem::path& artifact_dir,
                                        exec::OutputSink& sink,
                                        const exec::SupervisionLimits& limits,
                                        std::span<const int> cancel_fds,
                                        const exec::CancelCheck& should_cancel) {
    engine::ContainerEngine& engine = *prepared.engine;
    // Containers left by an arunner that died (SIGKILL, a crash) go first: one of them may hold
    // this job's name. A sweep that fails is no reason not to run; create says if it mattered.
    auto host = this_host();
    if (host) {
        (void)sweep_orphaned_containers(engine, *host);
    }
    auto created = engine.create(prepared.spec);
    if (!created) {
        return name_conflict_error(engine, prepared.spec.name, host).value_or(created.error());
    }
    const std::string id = *created;
    RemoveGuard guard(engine, id);
    // Through an O_NOFOLLOW open of ART: a link planted at ART by an earlier job is not followed.
    ARUNNER_TRY(artifacts::write_art_file(artifact_dir, kContainerIdFile, id + "\n", false));

    ARUNNER_ASSIGN_OR_RETURN(auto stream, engine.attach(id));
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return Error{std::string("cannot create a pipe: ") + std::strerror(errno)};
    }
    util::UniqueFd exit_read(pipe_fds[0]);
    util::UniqueFd exit_write(pipe_fds[1]);
    SupervisedContainer job(engine, id, std::move(stream), std::move(exit_read));
    ARUNNER_TRY(engine.start(id));

    std::thread waiter([&engine, &job, &id, fd = exit_write.get()] {
        job.set_exit(engine.wait(id));
        char byte = 1;
        (void)!::write(fd, &byte, 1);
    });
    // Returns once the waiter has seen the exit (supervise() waits for it).
    exec::Supervision result = exec::supervise(job, sink, limits, cancel_fds, should_cancel);
    waiter.join();
    auto wait_error = job.wait_error();
    auto removed = guard.remove();
    const bool stopped_by_us = result.canceled || result.timed_out;
    if (wait_error && !stopped_by_us) {
        return Error{"waiting for container " + id + ": " + wait_error->message};
    }
    // Output lost on the way (an engine error frame, a cut stream) must not pass as a clean run.
    if (job.stream_error() && !stopped_by_us) {
        return Error{"reading the output of container " + id + ": " + job.stream_error()->message};
    }
    if (!removed.ok()) {
        return Error{"removing container " + id + ": " + removed.error().message};
    }
    return result;
}

}  // namespace arunner::isolation
