#pragma once
// The job supervisor: one poll loop per child over its output streams, its exit (pidfd), a
// cancel fd and the clock. It enforces job and idle timeouts, honours cancellation by killing the
// child's whole process group, and drains every byte of output after the child exits.

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "arunner/error.hpp"
#include "exec/child_process.hpp"
#include "exec/prompt_responder.hpp"
#include "util/clock.hpp"
#include "util/output_stream.hpp"

namespace arunner::exec {

/// Receives the child's output, in order, as it arrives. Called on the supervising thread.
class OutputSink {
  public:
    virtual ~OutputSink() = default;
    /// `bytes` is only valid during the call.
    virtual void on_output(OutputStream stream, std::string_view bytes) = 0;
    /// The job's exit status as its own output reported it (a container's in-band exit frame,
    /// docs/frames.md), once it has; a container job then ends without the engine's wait.
    virtual std::optional<int> exit_status() const { return std::nullopt; }
};

/// What the supervisor watches: a local child process, or a container (isolation/). Streams are
/// file descriptors polled for POLLIN; the exit is either signalled on exit_fd() or polled.
class SupervisedJob {
  public:
    virtual ~SupervisedJob() = default;
    /// stdout (or the merged pty/tty stream); -1 when there is none.
    virtual int output_fd() const = 0;
    /// stderr in pipes mode; -1 when there is none.
    virtual int error_fd() const = 0;
    /// Readable once the job has ended; -1 means the exit is polled with try_wait().
    virtual int exit_fd() const = 0;
    /// True while bytes already received wait to be handed out (poll would not show them).
    virtual bool has_buffered_output() const { return false; }
    /// Hands what is available on `stream` to `sink` without blocking, at most about `budget`
    /// bytes; sets `got_data` when anything came. False once the stream has ended.
    virtual bool read_output(OutputStream stream, OutputSink& sink, std::span<char> buffer,
                             size_t budget, bool& got_data) = 0;
    /// The wait status (as waitpid's) once the job has ended.
    virtual std::optional<int> try_wait() = 0;
    /// Blocks until the job has ended; its wait status.
    virtual int wait() = 0;
    /// Ends the job and everything it started, at once. Called again after the job has been
    /// reaped, to catch late joiners; must be harmless then.
    virtual void kill() = 0;
    /// Releases the output streams.
    virtual void close_output() = 0;
    /// Writes `bytes` to the job's terminal (a prompt's answer); jobs without one refuse.
    virtual Status write_input(std::string_view bytes);
};

/// Limits and polling cadence for one child.
struct SupervisionLimits {
    using Seconds = std::chrono::duration<double>;
    std::optional<Seconds> job_timeout;   ///< time since spawn (settings job_timeout)
    std::optional<Seconds> idle_timeout;  ///< without any output (settings idle_timeout)
    /// How often `should_cancel` is polled (ansible-runner's pexpect_timeout, 5 s by default).
    Seconds poll_interval{5.0};
    /// After the child exits, how long to wait for output held open by a descendant that
    /// outlived it before giving up on the rest.
    Seconds drain_grace{0.25};
    /// Every time read and wait of the loop goes through it (tests pass a fake clock). Not
    /// owned; must outlive the supervise() call.
    util::Clock* clock = &util::steady_clock();
    /// Answers password prompts on the job's terminal (env/passwords); null: none. Not owned.
    /// An answer sent counts as activity for the idle timeout, as in ansible-runner.
    PromptResponder* prompts = nullptr;
};

/// What happened to the child.
struct Supervision {
    int wait_status = 0;     ///< as from waitpid
    bool timed_out = false;  ///< killed by the job or idle timeout
    bool canceled = false;   ///< killed because cancellation was requested
    /// On an idle timeout: the unterminated last line the output ended with (a prompt nobody
    /// answered, say "BECOME password:"); empty otherwise.
    std::string waiting_prompt;
    /// The exit code when the child exited by itself; empty when a signal ended it.
    std::optional<int> exit_code() const;
};

/// Polled after each burst of output (at most every 100 ms) and at least every `poll_interval`:
/// true asks for cancellation.
using CancelCheck = std::function<bool()>;

/// Runs `child` to the end, handing its output to `sink`. Each of `cancel_fds` (-1 entries are
/// ignored) becomes readable when cancellation is requested (a signal, a failed callback);
/// `should_cancel` (may be empty) is polled.
/// On timeout or cancel every process of the job gets SIGKILL: the child's process group and
/// session, its descendants that left them, and the orphans reparented to arunner when it is a
/// child subreaper (exec/job_processes.hpp says when). Returns after the child is reaped and its
/// output drained; on timeout or cancel, only once every process killed has exited.
Supervision supervise(ChildProcess& child, OutputSink& sink, const SupervisionLimits& limits,
                      std::span<const int> cancel_fds, const CancelCheck& should_cancel);

/// The same loop over any job; kill() replaces the process-group SIGKILL.
Supervision supervise(SupervisedJob& job, OutputSink& sink, const SupervisionLimits& limits,
                      std::span<const int> cancel_fds, const CancelCheck& should_cancel);

}  // namespace arunner::exec
