#include "runner/container_worker_job.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "artifacts/artifact_dir.hpp"
#include "isolation/container_job.hpp"
#include "isolation/oom_watch.hpp"
#include "isolation/supervised_container.hpp"
#include "stream/processor.hpp"
#include "stream/spool_file.hpp"
#include "stream/transmitter.hpp"
#include "util/files.hpp"
#include "util/read_beneath.hpp"
#include "util/strings.hpp"
#include "util/unique_fd.hpp"

namespace arunner::runner {
namespace {

/// How much of the worker's stderr is kept for an explanation.
constexpr size_t kStderrTail = 2048;

/// The supervisor's sink: the worker's stdout goes on to the processor's socket, its stderr is
/// kept (the end of it) to explain a worker that fails.
class WorkerOutput final : public exec::OutputSink {
  public:
    explicit WorkerOutput(int fd) : fd_(fd) {}

    void on_output(OutputStream stream, std::string_view bytes) override {
        if (stream == OutputStream::err) {
            stderr_tail_.append(bytes);
            if (stderr_tail_.size() > kStderrTail) {
                stderr_tail_.erase(0, stderr_tail_.size() - kStderrTail);
            }
            return;
        }
        while (!broken_ && !bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                broken_ = true;  // the processor has stopped reading: the rest is not wanted
                break;
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
    }

    const std::string& stderr_tail() const { return stderr_tail_; }

  private:
    int fd_;
    bool broken_ = false;
    std::string stderr_tail_;
};

/// What transmit sends for this job: the same run, under the ident chosen here, with the
/// controller's own settings left out (the worker writes its artifacts where it runs).
RunOptions transmitted_options(const RunOptions& options, const config::JobConfig& job) {
    RunOptions sent = options;
    sent.ident = job.ident;
    sent.artifact_dir.reset();
    sent.container_worker = false;
    sent.container_worker_command.clear();
    // The registry credentials pulled the worker's image here; the worker in the container pulls
    // nothing, so they do not go into it.
    sent.container_auth_data.reset();
    return sent;
}

/// What the OOM killer did, in words; empty when it did nothing (or nobody can say).
std::string oom_account(std::optional<long long> kills, const engine::ContainerSpec& spec) {
    if (!kills || *kills <= 0) {
        return {};
    }
    std::string limit = spec.memory_bytes
                            ? " (its memory limit is " +
                                  std::to_string(*spec.memory_bytes / (int64_t{1024} * 1024)) +
                                  " MiB)"
                            : "";
    return "OOMKilled: the container ran out of memory" + limit +
           " and the kernel's OOM killer killed " + std::to_string(*kills) + " of its processes";
}

/// What the engine says about a container whose stream was cut.
std::string engine_account(engine::ContainerEngine& engine, const std::string& id,
                           const std::string& oom) {
    auto info = engine.inspect(id);
    if (!info) {
        return "the engine cannot say why (" + info.error().message + ")";
    }
    std::string account = info->running
                              ? "the container is still running"
                              : "the container exited with code " + std::to_string(info->exit_code);
    if (!oom.empty()) {
        account += "; " + oom;
    } else if (info->oom_killed) {
        account += ", OOMKilled: it ran out of memory";
    }
    return account;
}

/// How long a worker that sent eof may take to end its stream (it exits right after eof).
constexpr int kAfterEofWaitMs = 10000;

/// Reads `fd` until its end or until it stays quiet for kAfterEofWaitMs of `clock`'s time; how
/// many bytes came.
size_t bytes_until_end(int fd, util::Clock& clock) {
    size_t count = 0;
    char buffer[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int ready = clock.poll(&p, 1, kAfterEofWaitMs);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            return count;
        }
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            return count;
        }
        count += static_cast<size_t>(n);
    }
}

/// The job's rc as the worker's ART/rc (unpacked from the artifacts zip) says.
std::optional<int> worker_rc(const std::filesystem::path& artifact_dir, JobStatus status) {
    util::ReadBounds bounds;
    bounds.max_bytes = 64;  // a number
    auto text = util::read_file_beneath(artifact_dir.string(), "rc", (artifact_dir / "rc").string(),
                                        bounds);
    if (text && *text) {
        if (auto rc = util::parse_int<int>(util::trim(**text))) {
            return rc;
        }
    }
    return status == JobStatus::successful ? std::optional<int>(0) : std::nullopt;
}

}  // namespace

Result<JobOutcome> run_worker_container_job(const RunOptions& options, const config::JobConfig& job,
                                            const JobHooks& hooks) {
    // Everything that can be checked is checked before anything is written or created.
    ARUNNER_ASSIGN_OR_RETURN(auto prepared,
                             isolation::prepare_worker_container(job, pull_context(job, hooks)));
    return run_worker_container(prepared, options, job, hooks, util::steady_clock());
}

Result<JobOutcome> run_worker_container(isolation::PreparedContainer& prepared,
                                        const RunOptions& options, const config::JobConfig& job,
                                        const JobHooks& hooks, util::Clock& clock) {
    JobOutcome outcome;
    outcome.artifact_dir = job.artifact_dir;
    auto set_status = [&](JobStatus status) {
        outcome.status = status;
        if (hooks.on_status) {
            hooks.on_status(status);
        }
    };

    ARUNNER_ASSIGN_OR_RETURN(auto spool, stream::SpoolFile::create());
    ARUNNER_TRY(stream::transmit(transmitted_options(options, job), spool.fd()));
    if (::lseek(spool.fd(), 0, SEEK_SET) != 0) {
        return Error{std::string("cannot rewind the job stream: ") + std::strerror(errno)};
    }
    ARUNNER_ASSIGN_OR_RETURN(auto dir, artifacts::ArtifactDir::create(job.artifact_dir));
    ARUNNER_TRY(artifacts::rotate_artifacts(job.artifact_dir.parent_path(), job.rotate_artifacts,
                                            job.artifact_dir.filename().string()));

    engine::ContainerEngine& engine = *prepared.engine;
    ARUNNER_ASSIGN_OR_RETURN(const std::string id,
                             isolation::create_container(engine, prepared.spec));
    isolation::RemoveGuard guard(engine, id);
    ARUNNER_TRY(dir.write_file(isolation::kContainerIdFile, id + "\n"));
    ARUNNER_ASSIGN_OR_RETURN(auto attached, engine.attach(id));
    ARUNNER_ASSIGN_OR_RETURN(auto container,
                             isolation::SupervisedContainer::make(engine, id, std::move(attached)));
    container->wait_when_output_ends();

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        return Error{std::string("cannot create a socket pair: ") + std::strerror(errno)};
    }
    util::UniqueFd to_processor(pair[0]);
    util::UniqueFd processor_in(pair[1]);
    int stop_fds[2];
    if (::pipe2(stop_fds, O_CLOEXEC) != 0) {
        return Error{std::string("cannot create a pipe: ") + std::strerror(errno)};
    }
    util::UniqueFd stop_read(stop_fds[0]);
    util::UniqueFd stop_write(stop_fds[1]);

    ARUNNER_TRY(engine.start(id));
    // With a memory limit, the container's OOM count is watched from now on (oom_watch.hpp).
    std::optional<isolation::OomWatch> oom_watch;
    if (prepared.spec.memory_bytes) {
        if (auto info = engine.inspect(id)) {
            oom_watch = isolation::OomWatch::open(*info);
        }
    }

    // The job stream goes in on a thread of its own; the container's stdin is closed after it.
    std::thread feeder([&container, fd = spool.fd()] {
        std::string buffer(size_t{64} * 1024, '\0');
        for (;;) {
            ssize_t n = ::read(fd, buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0 || !container->stream().write_stdin(
                              std::string_view(buffer.data(), static_cast<size_t>(n)))) {
                break;
            }
        }
        (void)container->stream().close_stdin();
    });

    // The supervisor watches the container on another thread: timeouts, cancel fds (signals, a
    // failed callback), the stop asked for below; its sink feeds the processor.
    exec::SupervisionLimits limits;
    if (job.job_timeout) {
        limits.job_timeout = exec::SupervisionLimits::Seconds(*job.job_timeout);
    }
    if (job.idle_timeout) {
        limits.idle_timeout = exec::SupervisionLimits::Seconds(*job.idle_timeout);
    }
    limits.drain_grace = exec::SupervisionLimits::Seconds(0);
    limits.clock = &clock;
    std::vector<int> cancel_fds = hooks.cancel_fds;
    cancel_fds.push_back(stop_read.get());
    WorkerOutput output(to_processor.get());
    exec::Supervision supervision;
    std::atomic<bool> stopped{false};
    std::thread pump([&] {
        supervision = exec::supervise(*container, output, limits, cancel_fds, {});
        if (supervision.canceled || supervision.timed_out) {
            stopped = true;
        }
        ::shutdown(to_processor.get(), SHUT_WR);  // the processor sees the end of the stream
    });

    // The processor runs here, on the job's thread, as every callback must.
    stream::ProcessorOptions processing;
    processing.private_data_dir = job.private_data_dir;
    processing.artifact_dir = job.artifact_dir;
    processing.quiet = job.suppress_ansible_output;
    processing.console_fd = hooks.console_fd;
    if (hooks.event_handler) {
        processing.callbacks.event_handler = hooks.event_handler;
    }
    processing.callbacks.status_handler = [&](const StatusUpdate& update) {
        outcome.status = update.status;
        if (hooks.on_worker_status) {
            hooks.on_worker_status(update);
        } else if (hooks.on_status) {
            hooks.on_status(update.status);
        }
    };
    stream::ProcessorHooks processor_hooks;
    processor_hooks.on_event_written = hooks.on_event_written;
    processor_hooks.stopped = [&] { return stopped.load(); };
    const auto poll_gap = std::chrono::duration<double>(std::clamp(job.pexpect_timeout, 0.01, 1.0));
    processor_hooks.idle_interval_ms = static_cast<int>(poll_gap.count() * 1000);
    bool cancel_asked = false;
    if (hooks.should_cancel) {
        processor_hooks.on_idle = [&] {
            if (!cancel_asked && hooks.should_cancel()) {
                cancel_asked = true;
                char byte = 1;
                (void)!::write(stop_write.get(), &byte, 1);
            }
        };
    }
    stream::ProcessResult processed =
        stream::run_processor(processor_in.get(), processing, processor_hooks);
    // Read while the container (and its cgroup) may still be there.
    const std::string oom =
        oom_account(oom_watch ? oom_watch->kills() : std::nullopt, prepared.spec);
    // Nothing may follow eof. A task in the container that wrote a whole stream of its own
    // (status, zip, eof) into the worker's stdout would be followed by the worker's real one.
    if (processed.saw_eof) {
        const size_t more = processed.bytes_after_eof + bytes_until_end(processor_in.get(), clock);
        if (more > 0) {
            processed.status = JobStatus::error;
            processed.error = "the worker stream went on after its eof line (" +
                              std::to_string(more) +
                              " more bytes): something in the container wrote into the "
                              "worker's stream, so the job's result cannot be trusted";
        }
    }
    // The stream said all it will say: stop reading it, and stop the container if it goes on.
    ::shutdown(processor_in.get(), SHUT_RDWR);
    container->end(0);
    pump.join();
    std::optional<std::string> cut_account;
    if (processed.status == JobStatus::error && !processed.saw_eof && !stopped) {
        cut_account = engine_account(engine, id, oom);
    }
    auto removed = guard.remove();
    ::shutdown(container->stream().fd(), SHUT_RDWR);  // a feeder still sending gives up
    feeder.join();

    if (hooks.failed && hooks.failed()) {
        outcome.rc = 1;
        set_status(JobStatus::error);
        ARUNNER_TRY(dir.write_status(outcome.status));
        ARUNNER_TRY(dir.write_rc(outcome.rc));
        return outcome;
    }
    // The controller's own stop decides: the worker may still answer a stop with a status of
    // its own (a SIGTERM is a cancel to it) and eof.
    if (supervision.timed_out || supervision.canceled) {
        outcome.canceled = supervision.canceled;
        outcome.timed_out = supervision.timed_out;
        outcome.rc = kRcCanceledOrTimeout;
        set_status(outcome.timed_out ? JobStatus::timeout : JobStatus::canceled);
        ARUNNER_TRY(dir.write_status(outcome.status));
        ARUNNER_TRY(dir.write_rc(outcome.rc));
        return outcome;
    }
    if ((processed.status == JobStatus::error && cut_account) || !removed.ok()) {
        if (auto lost = isolation::engine_lost(engine, prepared.socket, id)) {
            return Error{*lost};
        }
    }
    if (processed.status == JobStatus::error) {
        std::string message = processed.error;
        if (cut_account) {
            message += " (" + *cut_account + ")";
            std::string tail(util::trim(output.stderr_tail()));
            if (!tail.empty()) {
                message += "; the worker's stderr ends: " + tail;
            }
        }
        return Error{message};
    }
    if (!removed.ok()) {
        return Error{"removing container " + id + ": " + removed.error().message};
    }
    if (!oom.empty()) {
        // A task the OOM killer ended makes a worker report a plain failure: say what it was.
        return Error{oom + "; the worker reported the job " +
                     std::string(to_string(processed.status))};
    }
    outcome.status = processed.status;
    outcome.rc = worker_rc(job.artifact_dir, processed.status);
    outcome.canceled = processed.status == JobStatus::canceled;
    outcome.timed_out = processed.status == JobStatus::timeout;
    return outcome;
}

}  // namespace arunner::runner
