// The supervisor's loop: output, exit codes and the kill of a real child; timeouts, cancel
// polling and the drain after exit on a fake clock (time passes only when the loop waits), so
// no test here depends on how fast the machine is.

#include "exec/supervisor.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>

#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "util/strings.hpp"
#include "util/unique_fd.hpp"

namespace arunner::exec {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

class CollectingSink : public OutputSink {
  public:
    void on_output(OutputStream stream, std::string_view bytes) override {
        (stream == OutputStream::out ? out : err).append(bytes);
    }
    std::string out;
    std::string err;
};

ChildProcess spawn_shell(const std::string& script, Terminal terminal = Terminal::pty) {
    SpawnRequest request;
    request.argv = {"/bin/sh", "-c", script};
    request.envp = {"PATH=/usr/bin:/bin"};
    request.cwd = "/";
    request.terminal = terminal;
    auto spawned = ChildProcess::spawn(request);
    if (!spawned) {
        ADD_FAILURE() << spawned.error().message;
        std::abort();
    }
    return std::move(spawned).value();
}

/// Alive and not a zombie (an orphan's zombie lingers until whoever adopted it reaps it).
bool process_alive(pid_t pid) {
    if (::kill(pid, 0) != 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    return text.find(") Z ") == std::string::npos;
}

pid_t read_pid(const std::filesystem::path& file) {
    std::ifstream in(file);
    pid_t pid = 0;
    in >> pid;
    return pid;
}

/// The pid the child prints on its first line, read from its output before supervise() runs:
/// once it is known, the process it names exists.
pid_t first_line_pid(ChildProcess& child) {
    std::string line;
    while (line.find('\n') == std::string::npos) {
        pollfd p{child.output_fd(), POLLIN, 0};
        if (::poll(&p, 1, 60'000) <= 0) {  // an event awaited, with a generous limit
            break;
        }
        char c = 0;
        ssize_t n = ::read(child.output_fd(), &c, 1);
        if (n == 1) {
            line += c;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        }
    }
    return util::parse_int<pid_t>(util::trim(line)).value_or(0);
}

/// A FakeClock that also runs the test's actions at set times of its own, as a child writes
/// its output while time passes: a wait never goes past the next action.
class ScriptedClock final : public util::Clock {
  public:
    time_point now() const override { return fake_.now(); }

    int poll(pollfd* fds, nfds_t count, int timeout_ms) override {
        while (!script_.empty() && script_.begin()->first <= now()) {
            auto action = std::move(script_.begin()->second);
            script_.erase(script_.begin());
            action();
        }
        if (!script_.empty()) {
            auto until =
                std::chrono::ceil<std::chrono::milliseconds>(script_.begin()->first - now());
            if (timeout_ms < 0 || until.count() < timeout_ms) {
                timeout_ms = static_cast<int>(until.count());
            }
        }
        return fake_.poll(fds, count, timeout_ms);
    }

    /// Runs `action` once `after` has passed since the clock was made.
    void at(duration after, std::function<void()> action) {
        script_.emplace(start_ + after, std::move(action));
    }
    /// When the clock was made (supervise() starts then: nothing waits before it).
    time_point start() const { return start_; }

  private:
    FakeClock fake_;
    time_point start_ = fake_.now();
    std::multimap<time_point, std::function<void()>> script_;
};

/// A job the test drives: its output is a pipe the test writes to, its exit a pipe closed when
/// it ends (by exit() or kill()). Records when it was killed.
class FakeJob final : public SupervisedJob {
  public:
    explicit FakeJob(const util::Clock& clock) : clock_(clock) {
        int out[2];
        int ended[2];
        if (::pipe2(out, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(ended, O_CLOEXEC) != 0) {
            ADD_FAILURE() << "pipe2 failed";
            std::abort();
        }
        out_read_.reset(out[0]);
        out_write_.reset(out[1]);
        exit_read_.reset(ended[0]);
        exit_write_.reset(ended[1]);
    }

    /// The job writes `text` on its output.
    void write(std::string_view text) {
        ASSERT_EQ(::write(out_write_.get(), text.data(), text.size()),
                  static_cast<ssize_t>(text.size()));
    }
    /// The job ends with `wait_status`; its output stays open when `keep_output` (a
    /// descendant still holds it).
    void exit(int wait_status, bool keep_output = false) {
        status_ = wait_status;
        exit_write_.reset();
        if (!keep_output) {
            out_write_.reset();
        }
    }

    int output_fd() const override { return out_read_.get(); }
    int error_fd() const override { return -1; }
    int exit_fd() const override { return exit_read_.get(); }
    bool read_output(OutputStream stream, OutputSink& sink, std::span<char> buffer, size_t,
                     bool& got_data) override {
        for (;;) {
            ssize_t n = ::read(out_read_.get(), buffer.data(), buffer.size());
            if (n > 0) {
                got_data = true;
                sink.on_output(stream, std::string_view(buffer.data(), static_cast<size_t>(n)));
                continue;
            }
            return n < 0 && errno == EAGAIN;
        }
    }
    std::optional<int> try_wait() override { return status_; }
    int wait() override { return status_.value_or(SIGKILL); }
    void kill() override {
        kill_times.push_back(clock_.now());
        if (!status_) {
            exit(SIGKILL);  // the wait status of a process SIGKILL ended
        }
        out_write_.reset();
    }
    void close_output() override { out_read_.reset(); }

    /// When kill() was called (supervise() calls it again at the end for late joiners).
    std::vector<util::Clock::time_point> kill_times;

  private:
    const util::Clock& clock_;
    util::UniqueFd out_read_;
    util::UniqueFd out_write_;
    util::UniqueFd exit_read_;
    util::UniqueFd exit_write_;
    std::optional<int> status_;
};

TEST(Supervisor, CapturesOutputAndExitCodeThroughAPty) {
    auto child = spawn_shell("echo hello; exit 3");
    CollectingSink sink;
    Supervision result = supervise(child, sink, {}, {}, {});
    EXPECT_EQ(sink.out, "hello\r\n");  // the pty turns \n into \r\n, as under pexpect
    EXPECT_EQ(result.exit_code(), 3);
    EXPECT_FALSE(result.timed_out);
    EXPECT_FALSE(result.canceled);
}

TEST(Supervisor, PtyIs80ColumnsWideAndDoesNotEcho) {
    auto child = spawn_shell("stty size; stty -a | grep -o -- '-echo ' | head -1");
    CollectingSink sink;
    supervise(child, sink, {}, {}, {});
    EXPECT_EQ(sink.out, "24 80\r\n-echo \r\n");
}

TEST(Supervisor, PipesKeepStderrApart) {
    auto child = spawn_shell("echo out; echo err >&2", Terminal::pipes);
    CollectingSink sink;
    Supervision result = supervise(child, sink, {}, {}, {});
    EXPECT_EQ(sink.out, "out\n");
    EXPECT_EQ(sink.err, "err\n");
    EXPECT_EQ(result.exit_code(), 0);
}

TEST(Supervisor, NoOutputIsLostWhenTheChildExitsRightAfterWriting) {
    for (int i = 0; i < 10; ++i) {
        auto child = spawn_shell("head -c 3000000 /dev/zero | tr '\\0' x; exit 0");
        CollectingSink sink;
        supervise(child, sink, {}, {}, {});
        ASSERT_EQ(sink.out.size(), 3000000u) << "round " << i;
    }
}

TEST(Supervisor, JobTimeoutEndsTheJobAfterExactlyItsLength) {
    ScriptedClock clock;
    FakeJob job(clock);
    clock.at(100ms, [&] { job.write("working\n"); });
    CollectingSink sink;
    SupervisionLimits limits;
    limits.job_timeout = SupervisionLimits::Seconds(0.5);
    limits.clock = &clock;
    Supervision result = supervise(job, sink, limits, {}, {});
    EXPECT_TRUE(result.timed_out);
    EXPECT_FALSE(result.canceled);
    EXPECT_FALSE(result.exit_code().has_value());
    EXPECT_EQ(sink.out, "working\n");
    ASSERT_FALSE(job.kill_times.empty());
    EXPECT_EQ(job.kill_times.front() - clock.start(), 500ms);  // output does not extend it
}

TEST(Supervisor, JobTimeoutKillsTheWholeProcessGroup) {
    auto child = spawn_shell("sleep 100 & echo $!; wait");
    pid_t grandchild = first_line_pid(child);
    ASSERT_GT(grandchild, 0);
    FakeClock clock;
    CollectingSink sink;
    SupervisionLimits limits;
    limits.job_timeout = SupervisionLimits::Seconds(0.5);
    limits.clock = &clock;
    Supervision result = supervise(child, sink, limits, {}, {});
    EXPECT_TRUE(result.timed_out);
    EXPECT_FALSE(result.exit_code().has_value());
    EXPECT_FALSE(process_alive(grandchild));  // at once: supervise() waited for it
}

TEST(Supervisor, IdleTimeoutFiresOnlyWithoutOutput) {
    ScriptedClock clock;
    FakeJob job(clock);
    for (int i = 1; i <= 6; ++i) {
        clock.at(i * 100ms, [&] { job.write("tick\r\n"); });
    }
    CollectingSink sink;
    SupervisionLimits limits;
    limits.idle_timeout = SupervisionLimits::Seconds(0.4);
    limits.clock = &clock;
    Supervision result = supervise(job, sink, limits, {}, {});
    EXPECT_TRUE(result.timed_out);
    EXPECT_EQ(sink.out, "tick\r\ntick\r\ntick\r\ntick\r\ntick\r\ntick\r\n");
    ASSERT_FALSE(job.kill_times.empty());
    EXPECT_EQ(job.kill_times.front() - clock.start(), 1000ms);  // 0.4 s after the last tick
}

TEST(Supervisor, AnswersAPromptOnThePtyWithoutEchoingIt) {
    auto child = spawn_shell("printf 'Vault password: '; read -r p; echo \"got ${#p} ${p}\"");
    auto responder = PromptResponder::compile({{"Vault password:\\s*?$", "s3cret"}}, "test");
    ASSERT_TRUE(responder) << responder.error().message;
    CollectingSink sink;
    SupervisionLimits limits;
    limits.prompts = &*responder;
    Supervision result = supervise(child, sink, limits, {}, {});
    EXPECT_EQ(result.exit_code(), 0);
    // The shell saw the answer; the output shows only what the job printed itself.
    EXPECT_EQ(sink.out, "Vault password: got 6 s3cret\r\n");
}

TEST(Supervisor, AnIdleTimeoutNamesThePromptThatWaited) {
    ScriptedClock clock;
    FakeJob job(clock);
    clock.at(100ms, [&] { job.write("PLAY [all]\r\nBECOME password: "); });
    CollectingSink sink;
    SupervisionLimits limits;
    limits.idle_timeout = SupervisionLimits::Seconds(0.4);
    limits.clock = &clock;
    Supervision result = supervise(job, sink, limits, {}, {});
    EXPECT_TRUE(result.timed_out);
    EXPECT_EQ(result.waiting_prompt, "BECOME password:");
}

TEST(Supervisor, AnIdleTimeoutAfterACompleteLineNamesNoPrompt) {
    ScriptedClock clock;
    FakeJob job(clock);
    clock.at(100ms, [&] { job.write("TASK [sleep]\r\n"); });
    CollectingSink sink;
    SupervisionLimits limits;
    limits.idle_timeout = SupervisionLimits::Seconds(0.4);
    limits.clock = &clock;
    Supervision result = supervise(job, sink, limits, {}, {});
    EXPECT_TRUE(result.timed_out);
    EXPECT_EQ(result.waiting_prompt, "");
}

TEST(Supervisor, CancelFdKillsTheChild) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    util::UniqueFd cancel_read(fds[0]);
    util::UniqueFd cancel_write(fds[1]);
    ScriptedClock clock;
    FakeJob job(clock);
    job.write("started\n");
    clock.at(300ms, [&] {
        char byte = 1;
        ASSERT_EQ(::write(cancel_write.get(), &byte, 1), 1);
    });
    CollectingSink sink;
    SupervisionLimits limits;
    limits.clock = &clock;
    Supervision result = supervise(job, sink, limits, std::vector<int>{cancel_read.get()}, {});
    EXPECT_TRUE(result.canceled);
    EXPECT_FALSE(result.timed_out);
    EXPECT_EQ(sink.out, "started\n");
    ASSERT_FALSE(job.kill_times.empty());
    EXPECT_EQ(job.kill_times.front() - clock.start(), 300ms);
}

TEST(Supervisor, CancelKillsADescendantThatLeftTheSessionAndReturnsOnceItIsGone) {
    // setsid(): out of the child's process group and session, so killpg alone missed it.
    auto child = spawn_shell("setsid sleep 100 & echo $!; wait");
    pid_t detached = first_line_pid(child);
    ASSERT_GT(detached, 0);
    FakeClock clock;
    CollectingSink sink;
    SupervisionLimits limits;
    limits.poll_interval = SupervisionLimits::Seconds(0.05);
    limits.clock = &clock;
    Supervision result =
        supervise(child, sink, limits, {}, [&] { return process_alive(detached); });
    EXPECT_TRUE(result.canceled);
    EXPECT_FALSE(process_alive(detached));  // at once: supervise() waited for it
}

TEST(Supervisor, CancelCheckIsPolledEveryInterval) {
    FakeClock clock;
    FakeJob job(clock);
    CollectingSink sink;
    SupervisionLimits limits;
    limits.poll_interval = SupervisionLimits::Seconds(0.05);
    limits.clock = &clock;
    const auto started = clock.now();
    int polls = 0;
    Supervision result = supervise(job, sink, limits, {}, [&] { return ++polls >= 4; });
    EXPECT_TRUE(result.canceled);
    EXPECT_EQ(polls, 4);
    ASSERT_FALSE(job.kill_times.empty());
    EXPECT_EQ(job.kill_times.front() - started, 200ms);
}

TEST(Supervisor, ADescendantHoldingTheOutputDoesNotHangTheJob) {
    FakeClock clock;
    FakeJob job(clock);
    job.write("done\n");
    job.exit(0, /*keep_output=*/true);
    CollectingSink sink;
    SupervisionLimits limits;
    limits.clock = &clock;
    const auto started = clock.now();
    Supervision result = supervise(job, sink, limits, {}, {});
    EXPECT_EQ(result.exit_code(), 0);
    EXPECT_EQ(sink.out, "done\n");
    EXPECT_TRUE(job.kill_times.empty());
    // Returns once the output has been quiet for drain_grace after the exit.
    EXPECT_EQ(clock.now() - started, 250ms);
}

TEST(Supervisor, ADescendantHoldingThePtyDoesNotHangTheJob) {
    testing::TempDir dir;
    auto pid_file = dir / "pid";
    auto fifo = dir / "fifo";
    // The shell waits until the descendant is in its own session: the hang-up the shell's exit
    // sends to its process group must not reach it.
    auto child = spawn_shell("mkfifo " + fifo.string() + "; setsid sh -c 'echo $$ > " +
                             fifo.string() + "; exec sleep 100' & read pid < " + fifo.string() +
                             "; echo $pid > " + pid_file.string() + "; echo done");
    CollectingSink sink;
    Supervision result = supervise(child, sink, {}, {}, {});
    EXPECT_EQ(result.exit_code(), 0);
    EXPECT_EQ(sink.out, "done\r\n");
    pid_t descendant = read_pid(pid_file);
    ASSERT_GT(descendant, 0);
    EXPECT_TRUE(process_alive(descendant));  // supervise() returned while it held the pty
    ::kill(descendant, SIGKILL);
}

}  // namespace
}  // namespace arunner::exec
