#include "exec/supervisor.hpp"

#include "exec/job_processes.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace arunner::exec {
namespace {

using Clock = util::Clock;

// Bytes read from one stream per poll wake-up before the clocks are looked at again, so a
// child that never stops writing cannot starve the timeout and cancel checks.
constexpr size_t kReadBudget = 1 << 20;
constexpr size_t kReadSize = 1 << 16;
// The cancel check runs after output bursts, but not more often than this.
constexpr auto kMinCancelPollGap = std::chrono::milliseconds(100);
// Without a pidfd the exit is polled this often.
constexpr auto kExitPollInterval = std::chrono::milliseconds(20);

Clock::duration to_duration(SupervisionLimits::Seconds s) {
    return std::chrono::duration_cast<Clock::duration>(s);
}

/// Reads what is available on `fd` into `sink`; false once the stream has ended.
bool read_available(int fd, OutputStream stream, OutputSink& sink, std::span<char> buffer,
                    size_t budget, bool& got_data) {
    size_t total = 0;
    while (total < budget) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n > 0) {
            got_data = true;
            total += static_cast<size_t>(n);
            sink.on_output(stream, std::string_view(buffer.data(), static_cast<size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        return false;  // 0 = EOF on a pipe; EIO = every slave fd of the pty is closed
    }
    return true;
}

// How long a killed job's processes get to finish exiting (one stuck in the kernel, say on a dead
// NFS mount, is given up on after this; SIGKILL has been sent).
constexpr auto kKilledExitLimit = std::chrono::seconds(60);

/// Hands output on to the job's sink, and watches it for prompts: answers due are queued for the
/// loop to write, and the last line is kept for the idle-timeout message.
class PromptWatchingSink final : public OutputSink {
  public:
    PromptWatchingSink(OutputSink& inner, PromptResponder* prompts)
        : inner_(inner), prompts_(prompts) {}
    void on_output(OutputStream stream, std::string_view bytes) override {
        inner_.on_output(stream, bytes);
        if (stream != OutputStream::out) {
            return;
        }
        last_line_.feed(bytes);
        if (prompts_ != nullptr) {
            if (auto answer = prompts_->on_output(bytes)) {
                answers_.push_back(std::move(*answer));
            }
        }
    }
    std::optional<int> exit_status() const override { return inner_.exit_status(); }
    std::vector<std::string> take_answers() { return std::exchange(answers_, {}); }
    std::string pending_line() const { return last_line_.pending(); }

  private:
    OutputSink& inner_;
    PromptResponder* prompts_;
    LastLine last_line_;
    std::vector<std::string> answers_;
};

// How long an answer may wait for room in the terminal's input queue.
constexpr auto kInputWriteLimit = std::chrono::seconds(5);

/// Writes all of `bytes` to a non-blocking fd, waiting for room at most kInputWriteLimit.
Status write_all(int fd, std::string_view bytes) {
    const auto deadline = std::chrono::steady_clock::now() + kInputWriteLimit;
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n > 0) {
            bytes.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
            std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd, POLLOUT, 0};
            (void)::poll(&p, 1, 100);
            continue;
        }
        return Error{std::string("cannot write to the job's terminal: ") +
                     (n < 0 ? std::strerror(errno) : "no room")};
    }
    return {};
}

/// A local child: its pty or pipes, its pidfd, and SIGKILL to every process of the job.
class SupervisedProcess final : public SupervisedJob {
  public:
    explicit SupervisedProcess(ChildProcess& child) : child_(child), processes_(child.pid()) {}
    int output_fd() const override { return child_.output_fd(); }
    int error_fd() const override { return child_.error_fd(); }
    int exit_fd() const override { return child_.exit_fd(); }
    bool read_output(OutputStream stream, OutputSink& sink, std::span<char> buffer, size_t budget,
                     bool& got_data) override {
        int fd = stream == OutputStream::out ? child_.output_fd() : child_.error_fd();
        return read_available(fd, stream, sink, buffer, budget, got_data);
    }
    std::optional<int> try_wait() override { return child_.try_wait(); }
    int wait() override { return child_.wait(); }
    // The whole job dies: its process group, and descendants that left it (setsid, a double
    // fork). Called again once the child is reaped: whatever joined late is killed too, and
    // then every process killed is waited for, so the job is gone when supervise() returns.
    // (Before, only the group got SIGKILL and nothing waited for its members to exit: under
    // load one could still be alive when arunner had already written `canceled` and exited.)
    void kill() override {
        processes_.kill_all();
        if (child_.try_wait()) {
            processes_.wait_all(kKilledExitLimit);
        }
    }
    void close_output() override { child_.close_output(); }
    Status write_input(std::string_view bytes) override {
        if (child_.input_fd() < 0) {
            return SupervisedJob::write_input(bytes);
        }
        return write_all(child_.input_fd(), bytes);
    }

  private:
    ChildProcess& child_;
    JobProcesses processes_;
};

}  // namespace

Status SupervisedJob::write_input(std::string_view) {
    return Error{"this job has no terminal to answer a prompt on"};
}

std::optional<int> Supervision::exit_code() const {
    if (WIFEXITED(wait_status)) {
        return WEXITSTATUS(wait_status);
    }
    return std::nullopt;
}

Supervision supervise(ChildProcess& child, OutputSink& sink, const SupervisionLimits& limits,
                      std::span<const int> cancel_fds, const CancelCheck& should_cancel) {
    SupervisedProcess job(child);
    return supervise(job, sink, limits, cancel_fds, should_cancel);
}

Supervision supervise(SupervisedJob& child, OutputSink& job_sink, const SupervisionLimits& limits,
                      std::span<const int> cancel_fds, const CancelCheck& should_cancel) {
    Supervision result;
    PromptWatchingSink sink(job_sink, limits.prompts);
    std::vector<char> buffer(kReadSize);
    Clock& clock = *limits.clock;
    const auto started = clock.now();
    auto last_output = started;
    auto next_cancel_poll = started + to_duration(limits.poll_interval);
    auto last_cancel_poll = started;
    std::optional<Clock::time_point> exited_at;
    bool killed = false;
    bool out_open = child.output_fd() >= 0;
    bool err_open = child.error_fd() >= 0;

    auto kill_group = [&]() {
        if (!killed) {
            killed = true;
            child.kill();
        }
    };

    // Output already there is read however late it is: the grace is for output that is not
    // (a loaded machine can keep this loop from running for longer than the grace).
    auto output_waiting = [&]() {
        std::vector<pollfd> open;
        for (int fd : {out_open ? child.output_fd() : -1, err_open ? child.error_fd() : -1}) {
            if (fd >= 0) {
                open.push_back(pollfd{fd, POLLIN, 0});
            }
        }
        return child.has_buffered_output() ||
               (!open.empty() && clock.poll(open.data(), open.size(), 0) > 0);
    };

    for (;;) {
        const auto now = clock.now();
        if (!exited_at) {
            if (auto status = child.try_wait()) {
                result.wait_status = *status;
                exited_at = now;
                last_output = std::max(last_output, now);
            }
        }
        if (exited_at) {
            bool streams_done = !out_open && !err_open;
            bool quiet = now - last_output >= to_duration(limits.drain_grace);
            if (streams_done || (quiet && !output_waiting())) {
                break;
            }
        }

        // Which deadline comes first decides how long poll may sleep.
        std::optional<Clock::time_point> wake;
        auto consider = [&](Clock::time_point t) { wake = wake ? std::min(*wake, t) : t; };
        if (!killed && !exited_at) {
            if (limits.job_timeout) {
                consider(started + to_duration(*limits.job_timeout));
            }
            if (limits.idle_timeout) {
                consider(last_output + to_duration(*limits.idle_timeout));
            }
            if (should_cancel) {
                consider(next_cancel_poll);
            }
        }
        if (exited_at) {
            consider(last_output + to_duration(limits.drain_grace));
        }
        if (!exited_at && child.exit_fd() < 0) {
            consider(now + kExitPollInterval);
        }

        std::vector<pollfd> fds;
        auto add = [&](int fd) {
            fds.push_back(pollfd{fd, POLLIN, 0});
            return fds.size() - 1;
        };
        size_t out_slot = out_open ? add(child.output_fd()) : SIZE_MAX;
        size_t err_slot = err_open ? add(child.error_fd()) : SIZE_MAX;
        size_t exit_slot = (!exited_at && child.exit_fd() >= 0) ? add(child.exit_fd()) : SIZE_MAX;
        size_t first_cancel_slot = fds.size();
        if (!killed && !exited_at) {
            for (int fd : cancel_fds) {
                if (fd >= 0) {
                    add(fd);
                }
            }
        }
        size_t end_cancel_slots = fds.size();

        int timeout_ms = -1;
        if (child.has_buffered_output()) {
            wake = now;
        }
        if (wake) {
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count();
            timeout_ms = static_cast<int>(std::clamp<long long>(wait, 0, 60'000));
        }
        int ready = clock.poll(fds.data(), fds.size(), timeout_ms);
        if (ready < 0 && errno != EINTR) {
            kill_group();  // cannot supervise any more: do not leave the child behind
            result.wait_status = child.wait();
            break;
        }

        bool got_data = false;
        auto readable = [&](size_t slot) {
            return slot != SIZE_MAX && ready > 0 && fds[slot].revents != 0;
        };
        if (readable(out_slot) || (out_open && child.has_buffered_output())) {
            out_open = child.read_output(OutputStream::out, sink, buffer, kReadBudget, got_data);
        }
        if (readable(err_slot)) {
            err_open = child.read_output(OutputStream::err, sink, buffer, kReadBudget, got_data);
        }
        const auto after = clock.now();
        if (got_data) {
            last_output = after;
        }
        if (!exited_at && !killed) {
            // A failed write leaves the prompt unanswered: the idle timeout then says so.
            for (const std::string& answer : sink.take_answers()) {
                (void)child.write_input(answer);
            }
        }
        for (size_t slot = first_cancel_slot; slot < end_cancel_slots; ++slot) {
            if (readable(slot) && !exited_at && !killed) {
                result.canceled = true;
                kill_group();
            }
        }
        (void)exit_slot;  // its readiness is picked up by try_wait at the top of the loop

        if (killed || exited_at) {
            continue;
        }
        bool output_burst = got_data && after - last_cancel_poll >= kMinCancelPollGap;
        if (should_cancel && (after >= next_cancel_poll || output_burst)) {
            last_cancel_poll = after;
            next_cancel_poll = after + to_duration(limits.poll_interval);
            if (should_cancel()) {
                result.canceled = true;
                kill_group();
                continue;
            }
        }
        bool job_expired =
            limits.job_timeout && after - started >= to_duration(*limits.job_timeout);
        bool idle_expired =
            limits.idle_timeout && after - last_output >= to_duration(*limits.idle_timeout);
        if (job_expired || idle_expired) {
            result.timed_out = true;
            if (idle_expired && !job_expired) {
                result.waiting_prompt = sink.pending_line();
            }
            kill_group();
        }
    }
    if (!exited_at) {
        result.wait_status = child.wait();
    }
    if (killed) {
        child.kill();  // whatever joined late
    }
    child.close_output();
    return result;
}

}  // namespace arunner::exec
