#include "exec/supervisor.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/temp_dir.hpp"

namespace arunner::exec {
namespace {

using namespace std::chrono_literals;

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
    if (auto* error = std::get_if<SpawnError>(&spawned)) {
        ADD_FAILURE() << error->message;
        std::abort();
    }
    return std::move(std::get<ChildProcess>(spawned));
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

TEST(Supervisor, JobTimeoutKillsTheWholeProcessGroup) {
    testing::TempDir dir;
    auto pid_file = dir / "pid";
    auto child = spawn_shell("sleep 100 & echo $! > " + pid_file.string() + "; wait");
    CollectingSink sink;
    SupervisionLimits limits;
    limits.job_timeout = SupervisionLimits::Seconds(0.5);
    auto started = std::chrono::steady_clock::now();
    Supervision result = supervise(child, sink, limits, {}, {});
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_TRUE(result.timed_out);
    EXPECT_FALSE(result.exit_code().has_value());
    pid_t grandchild = read_pid(pid_file);
    ASSERT_GT(grandchild, 0);
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(process_alive(grandchild));
}

TEST(Supervisor, IdleTimeoutFiresOnlyWithoutOutput) {
    auto child = spawn_shell("for i in 1 2 3 4 5 6; do echo tick; sleep 0.1; done; sleep 100");
    CollectingSink sink;
    SupervisionLimits limits;
    limits.idle_timeout = SupervisionLimits::Seconds(0.4);
    Supervision result = supervise(child, sink, limits, {}, {});
    EXPECT_TRUE(result.timed_out);
    EXPECT_EQ(sink.out, "tick\r\ntick\r\ntick\r\ntick\r\ntick\r\ntick\r\n");
}

TEST(Supervisor, CancelFdKillsTheChild) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    auto child = spawn_shell("echo started; sleep 100");
    std::thread canceller([&] {
        std::this_thread::sleep_for(300ms);
        char byte = 1;
        ASSERT_EQ(::write(fds[1], &byte, 1), 1);
    });
    CollectingSink sink;
    Supervision result = supervise(child, sink, {}, std::vector<int>{fds[0]}, {});
    canceller.join();
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_TRUE(result.canceled);
    EXPECT_FALSE(result.timed_out);
    EXPECT_EQ(sink.out, "started\r\n");
}

TEST(Supervisor, CancelKillsADescendantThatLeftTheSessionAndReturnsOnceItIsGone) {
    // setsid(): out of the child's process group and session, so killpg alone missed it.
    testing::TempDir dir;
    auto pid_file = dir / "pid";
    auto child = spawn_shell("setsid sleep 100 & echo $! > " + pid_file.string() + "; wait");
    CollectingSink sink;
    SupervisionLimits limits;
    limits.poll_interval = SupervisionLimits::Seconds(0.05);
    Supervision result = supervise(child, sink, limits, {}, [&] { return read_pid(pid_file) > 0; });
    EXPECT_TRUE(result.canceled);
    pid_t detached = read_pid(pid_file);
    ASSERT_GT(detached, 0);
    EXPECT_FALSE(process_alive(detached));  // at once: supervise() waited for it
}

TEST(Supervisor, CancelCheckIsPolledEveryInterval) {
    auto child = spawn_shell("sleep 100");
    CollectingSink sink;
    SupervisionLimits limits;
    limits.poll_interval = SupervisionLimits::Seconds(0.05);
    int polls = 0;
    Supervision result = supervise(child, sink, limits, {}, [&] { return ++polls >= 4; });
    EXPECT_TRUE(result.canceled);
    EXPECT_EQ(polls, 4);
}

TEST(Supervisor, ADescendantHoldingThePtyDoesNotHangTheJob) {
    auto child = spawn_shell("setsid sleep 3 & echo done");
    CollectingSink sink;
    auto started = std::chrono::steady_clock::now();
    Supervision result = supervise(child, sink, {}, {}, {});
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(result.exit_code(), 0);
    EXPECT_EQ(sink.out, "done\r\n");
}

TEST(ChildProcess, MissingExecutableIsNotFound) {
    SpawnRequest request;
    request.argv = {"no-such-command-arunner"};
    request.envp = {"PATH=/usr/bin:/bin"};
    request.cwd = "/";
    auto spawned = ChildProcess::spawn(request);
    auto* error = std::get_if<SpawnError>(&spawned);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->failure, SpawnFailure::not_found);
    EXPECT_EQ(error->message,
              "The command was not found or was not executable: no-such-command-arunner.");
}

TEST(ChildProcess, ExecutableIsLookedUpInTheChildsPath) {
    EXPECT_EQ(find_executable("sh", "/nonexistent:/bin"), "/bin/sh");
    EXPECT_EQ(find_executable("sh", "/nonexistent"), "");
    EXPECT_EQ(find_executable("/bin/sh", ""), "/bin/sh");
}

TEST(ChildProcess, DestroyingARunningChildKillsIt) {
    pid_t pid = 0;
    {
        auto child = spawn_shell("sleep 100");
        pid = child.pid();
        EXPECT_TRUE(process_alive(pid));
    }
    EXPECT_FALSE(process_alive(pid));
}

}  // namespace
}  // namespace arunner::exec
