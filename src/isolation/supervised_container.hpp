#pragma once
// A container as the job supervisor sees it (exec::SupervisedJob): its attach stream is the
// output, and its end is known either from the stream (an in-band exit status, a worker's eof:
// end()) or from the engine's wait on a thread of its own. Also the container's creation (after
// sweeping the containers of dead controllers) and its removal on every path.

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "arunner/error.hpp"
#include "engine/container_engine.hpp"
#include "exec/supervisor.hpp"
#include "util/unique_fd.hpp"

namespace arunner::isolation {

/// How long a stopped container's command gets between SIGTERM and SIGKILL.
inline constexpr int kStopGraceSeconds = 2;

class SupervisedContainer final : public exec::SupervisedJob {
  public:
    /// Wraps the created (not yet started) container `id` and its attach stream.
    static Result<std::unique_ptr<SupervisedContainer>> make(engine::ContainerEngine& engine,
                                                             std::string id,
                                                             engine::AttachStream stream);
    ~SupervisedContainer() override;
    SupervisedContainer(const SupervisedContainer&) = delete;
    SupervisedContainer& operator=(const SupervisedContainer&) = delete;

    /// Learns the exit from the engine's wait, on a thread, from now on (call after start).
    void wait_from_now();
    /// Learns the exit from the engine's wait only once the output has ended without end():
    /// the container died, or was stopped, before the stream said it was done.
    void wait_when_output_ends() { wait_at_output_end_ = true; }
    /// The end as the stream told it: the supervisor stops waiting for the engine and reading
    /// the output (what follows is not wanted). Thread-safe.
    void end(int exit_code);

    /// The attach stream (another thread may write the container's stdin through it while the
    /// supervisor reads).
    engine::AttachStream& stream() { return stream_; }
    /// Why the output ended early, if it did.
    const std::optional<Error>& stream_error() const { return stream_error_; }
    /// Why the engine's wait failed, if it did.
    std::optional<Error> wait_error();
    /// Whether the end came from end() rather than from the engine.
    bool ended_by_stream();

    int output_fd() const override { return stream_open_ ? stream_.fd() : -1; }
    int error_fd() const override { return -1; }
    int exit_fd() const override { return exit_read_.get(); }
    bool has_buffered_output() const override { return stream_open_ && stream_.has_pending(); }
    bool read_output(OutputStream stream, exec::OutputSink& sink, std::span<char> buffer,
                     size_t budget, bool& got_data) override;
    std::optional<int> try_wait() override;
    int wait() override;
    void kill() override;
    void close_output() override { stream_open_ = false; }
    /// Into the container's stdin (its tty when it has one): a prompt's answer.
    Status write_input(std::string_view bytes) override { return stream_.write_stdin(bytes); }

  private:
    SupervisedContainer(engine::ContainerEngine& engine, std::string id,
                        engine::AttachStream stream, util::UniqueFd exit_read,
                        util::UniqueFd exit_write);
    void set_exit(Result<int> result, bool from_stream);
    /// The output has ended (cleanly or not): what follows from it.
    void output_ended();
    static int status_of(const Result<int>& exit);

    engine::ContainerEngine& engine_;
    std::string id_;
    engine::AttachStream stream_;
    engine::StreamDemux demux_;
    util::UniqueFd exit_read_;
    util::UniqueFd exit_write_;
    std::atomic<bool> stream_open_{true};  // end() may close it from another thread
    bool wait_at_output_end_ = false;
    std::optional<Error> stream_error_;
    std::atomic<bool> stopped_{false};
    std::thread waiter_;
    std::mutex mutex_;
    std::optional<Result<int>> exit_;
    bool exit_from_stream_ = false;
};

/// Removes the container on every path out of a job; remove() says whether that worked.
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

/// Creates the container for `spec` after removing the containers of controllers that are gone
/// (one of them may hold this job's name); a name still in use is an Error that says whose
/// container holds it. Returns the new container's id.
Result<std::string> create_container(engine::ContainerEngine& engine,
                                     const engine::ContainerSpec& spec);

/// When the engine at `socket` no longer answers (its service was killed while the job ran): the
/// message that says so, names the engine and says what becomes of container `id`. nullopt while
/// the engine answers.
std::optional<std::string> engine_lost(engine::ContainerEngine& engine,
                                       const std::filesystem::path& socket, const std::string& id);

}  // namespace arunner::isolation
