// ChildProcess: the executable looked up in the child's PATH, a missing one reported as not
// found, the child killed with its handle, and the frame secret handed to the child on fd 3
// only: the child reads it there, ARUNNER_FRAME_FD names it, and a child spawned without a
// secret has no fd 3.

#include "exec/child_process.hpp"
#include "util/files.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace arunner::exec {
namespace {

/// Everything the child writes on stdout, until it closes it.
std::string read_all(ChildProcess& child) {
    std::string out;
    char buffer[4096];
    for (;;) {
        struct pollfd p {
            child.output_fd(), POLLIN, 0
        };
        ::poll(&p, 1, 30000);
        ssize_t n = ::read(child.output_fd(), buffer, sizeof buffer);
        if (n > 0) {
            out.append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            return out;
        }
    }
}

SpawnRequest shell(const std::string& script) {
    SpawnRequest request;
    request.argv = {"/bin/sh", "-c", script};
    request.envp = {"PATH=/usr/bin:/bin", "ARUNNER_FRAME_FD=7",
                    "ARUNNER_FRAME_SECRET=ffffffffffffffffffffffffffffffff"};
    request.cwd = std::filesystem::temp_directory_path();
    request.terminal = Terminal::pipes;
    return request;
}

TEST(ChildProcess, TheFrameSecretIsOnTheFdItsVariableNames) {
    SpawnRequest request = shell(
        "printf '%s|' \"$ARUNNER_FRAME_FD\" \"${ARUNNER_FRAME_SECRET-unset}\"; cat <&3; "
        "printf '|'; test -e /proc/$$/fd/4 && echo fd4-open || echo fd4-closed");
    request.frame_secret = "0123456789abcdef0123456789abcdef";
    auto spawned = ChildProcess::spawn(request);
    ASSERT_TRUE(spawned.ok()) << spawned.error().message;
    auto& child = *spawned;
    EXPECT_EQ(read_all(child), "3|unset|0123456789abcdef0123456789abcdef|fd4-closed\n");
    EXPECT_EQ(child.wait(), 0);
}

TEST(ChildProcess, WithoutASecretTheChildHasNoFd3) {
    auto spawned =
        ChildProcess::spawn(shell("test -e /proc/$$/fd/3 && echo fd3-open || echo fd3-closed"));
    ASSERT_TRUE(spawned.ok()) << spawned.error().message;
    auto& child = *spawned;
    EXPECT_EQ(read_all(child), "fd3-closed\n");
    child.wait();
}

/// Alive and not a zombie.
bool process_alive(pid_t pid) {
    if (::kill(pid, 0) != 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    return text.find(") Z ") == std::string::npos;
}

TEST(ChildProcess, MissingExecutableIsNotFound) {
    SpawnRequest request;
    request.argv = {"no-such-command-arunner"};
    request.envp = {"PATH=/usr/bin:/bin"};
    request.cwd = "/";
    SpawnFailure failure = SpawnFailure::other;
    auto spawned = ChildProcess::spawn(request, &failure);
    ASSERT_FALSE(spawned.ok());
    EXPECT_EQ(failure, SpawnFailure::not_found);
    EXPECT_EQ(spawned.error().message,
              "The command was not found or was not executable: no-such-command-arunner.");
}

/// Everything readable from `fd` until its write ends are closed.
std::string read_fd(int fd) {
    std::string out;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
        out.append(buffer, static_cast<size_t>(n));
    }
    return out;
}

TEST(ChildProcess, GivenFdsBecomeTheChildsStandardStreams) {
    int in[2];
    int out[2];
    ASSERT_EQ(::pipe(in), 0);
    ASSERT_EQ(::pipe(out), 0);
    ASSERT_EQ(::write(in[1], "from input\n", 11), 11);
    ::close(in[1]);
    SpawnRequest request = shell("cat; echo to-stderr >&2");
    request.stdin_fd = in[0];
    request.stdout_fd = out[1];
    auto spawned = ChildProcess::spawn(request);
    ASSERT_TRUE(spawned.ok()) << spawned.error().message;
    ::close(out[1]);  // the child holds its own copy
    ::close(in[0]);
    auto& child = *spawned;
    EXPECT_EQ(child.output_fd(), -1);  // not captured
    ASSERT_GE(child.error_fd(), 0);    // still a pipe of ours
    EXPECT_EQ(read_fd(out[0]), "from input\n");
    EXPECT_EQ(child.wait(), 0);
    ::close(out[0]);
}

TEST(ChildProcess, AGivenStderrFdIsNotCaptured) {
    int err[2];
    ASSERT_EQ(::pipe(err), 0);
    SpawnRequest request = shell("echo out; echo err >&2");
    request.stderr_fd = err[1];
    auto spawned = ChildProcess::spawn(request);
    ASSERT_TRUE(spawned.ok()) << spawned.error().message;
    ::close(err[1]);
    auto& child = *spawned;
    EXPECT_EQ(child.error_fd(), -1);
    EXPECT_EQ(read_all(child), "out\n");
    EXPECT_EQ(read_fd(err[0]), "err\n");
    EXPECT_EQ(child.wait(), 0);
    ::close(err[0]);
}

TEST(ChildProcess, FdsAreRefusedOnATerminal) {
    SpawnRequest request = shell("true");
    request.terminal = Terminal::pty;
    request.stdout_fd = 1;
    auto spawned = ChildProcess::spawn(request);
    ASSERT_FALSE(spawned.ok());
    EXPECT_NE(spawned.error().message.find("not on a terminal"), std::string::npos);
}

TEST(ChildProcess, ExecutableIsLookedUpInTheChildsPath) {
    EXPECT_EQ(util::find_executable("sh", "/nonexistent:/bin"), "/bin/sh");
    EXPECT_EQ(util::find_executable("sh", "/nonexistent"), "");
    EXPECT_EQ(util::find_executable("/bin/sh", ""), "/bin/sh");
}

TEST(ChildProcess, DestroyingARunningChildKillsIt) {
    pid_t pid = 0;
    {
        auto spawned = ChildProcess::spawn(shell("sleep 100"));
        ASSERT_TRUE(spawned.ok()) << spawned.error().message;
        pid = spawned->pid();
        EXPECT_TRUE(process_alive(pid));
    }
    EXPECT_FALSE(process_alive(pid));
}

}  // namespace
}  // namespace arunner::exec
