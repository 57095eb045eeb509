#include "isolation/supervised_container.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "isolation/container_sweep.hpp"

namespace arunner::isolation {

Result<std::unique_ptr<SupervisedContainer>> SupervisedContainer::make(
    engine::ContainerEngine& engine, std::string id, engine::AttachStream stream) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return Error{std::string("cannot create a pipe: ") + std::strerror(errno)};
    }
    return std::unique_ptr<SupervisedContainer>(
        new SupervisedContainer(engine, std::move(id), std::move(stream),
                                util::UniqueFd(pipe_fds[0]), util::UniqueFd(pipe_fds[1])));
}

SupervisedContainer::SupervisedContainer(engine::ContainerEngine& engine, std::string id,
                                         engine::AttachStream stream, util::UniqueFd exit_read,
                                         util::UniqueFd exit_write)
    : engine_(engine),
      id_(std::move(id)),
      stream_(std::move(stream)),
      demux_(stream_.tty()),
      exit_read_(std::move(exit_read)),
      exit_write_(std::move(exit_write)) {}

SupervisedContainer::~SupervisedContainer() {
    if (waiter_.joinable()) {
        waiter_.join();
    }
}

void SupervisedContainer::wait_from_now() {
    if (waiter_.joinable()) {
        return;
    }
    waiter_ = std::thread([this] { set_exit(engine_.wait(id_), false); });
}

void SupervisedContainer::end(int exit_code) {
    stream_open_ = false;
    set_exit(exit_code, true);
}

void SupervisedContainer::set_exit(Result<int> result, bool from_stream) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (exit_) {
            return;  // the first word on the end stands
        }
        exit_ = std::move(result);
        exit_from_stream_ = from_stream;
    }
    char byte = 1;
    (void)!::write(exit_write_.get(), &byte, 1);
}

std::optional<Error> SupervisedContainer::wait_error() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (exit_ && !exit_->ok()) {
        return exit_->error();
    }
    return std::nullopt;
}

bool SupervisedContainer::ended_by_stream() {
    std::lock_guard<std::mutex> lock(mutex_);
    return exit_from_stream_;
}

bool SupervisedContainer::read_output(OutputStream, exec::OutputSink& sink, std::span<char> buffer,
                                      size_t, bool& got_data) {
    // One read per call: poll said the socket is readable, a second read could block.
    auto n = stream_.read(buffer);
    if (!n.ok() || *n == 0) {
        if (!n.ok()) {
            stream_error_ = n.error();
        } else if (auto finished = demux_.finish(); !finished.ok()) {
            stream_error_ = finished.error();
        }
        output_ended();
        return false;
    }
    got_data = true;
    auto fed = demux_.feed(
        std::string_view(buffer.data(), *n),
        [&](OutputStream which, std::string_view bytes) { sink.on_output(which, bytes); });
    if (!fed.ok()) {
        stream_error_ = fed.error();
        output_ended();
        return false;
    }
    if (auto code = sink.exit_status()) {
        end(*code);  // the command's own word on its end: no need to wait for the engine
        return false;
    }
    return true;
}

void SupervisedContainer::output_ended() {
    stream_open_ = false;
    // A broken stream (an engine error frame, a cut frame, a failed read) says nothing of the
    // command, which may go on with nobody reading: stop it, or the job would wait for it.
    if (stream_error_) {
        kill();
    }
    if (wait_at_output_end_) {
        wait_from_now();
    }
}

std::optional<int> SupervisedContainer::try_wait() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!exit_) {
        return std::nullopt;
    }
    return status_of(*exit_);
}

int SupervisedContainer::wait() {
    if (auto status = try_wait()) {
        return *status;
    }
    if (wait_at_output_end_) {
        wait_from_now();  // the supervisor gave up on the output: the engine must say
    }
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

void SupervisedContainer::kill() {
    if (stopped_.exchange(true)) {
        return;
    }
    // SIGTERM reaches the command through the container's init; SIGKILL after the grace.
    if (!engine_.stop(id_, kStopGraceSeconds).ok() && !engine_.kill(id_, SIGKILL).ok()) {
        // Neither worked: a forced removal ends it, and the wait with it.
        (void)engine_.remove(id_, true);
    }
}

int SupervisedContainer::status_of(const Result<int>& exit) {
    if (!exit.ok()) {
        return W_EXITCODE(255, 0);
    }
    // As `podman run` exits: a command killed by signal N gives 128+N, an rc like any other.
    return W_EXITCODE(*exit & 0xff, 0);
}

namespace {

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

Result<std::string> create_container(engine::ContainerEngine& engine,
                                     const engine::ContainerSpec& spec) {
    // Containers left by an arunner that died (SIGKILL, a crash) go first: one of them may hold
    // this job's name. A sweep that fails is no reason not to run; create says if it mattered.
    auto host = this_host();
    if (host) {
        (void)sweep_orphaned_containers(engine, *host);
    }
    auto created = engine.create(spec);
    if (!created) {
        return name_conflict_error(engine, spec.name, host).value_or(created.error());
    }
    return created;
}

std::optional<std::string> engine_lost(engine::ContainerEngine& engine,
                                       const std::filesystem::path& socket, const std::string& id) {
    auto ping = engine.ping();
    if (ping) {
        return std::nullopt;
    }
    return "the " + std::string(engine::dialect_name(engine.dialect())) + " engine at " +
           socket.string() + " stopped answering while the job ran (" + ping.error().message +
           "); its container " + id.substr(0, 12) +
           " is left to the orphan sweep (the next job's start, or `arunner worker cleanup "
           "--containers`) once this controller has exited";
}

}  // namespace arunner::isolation
