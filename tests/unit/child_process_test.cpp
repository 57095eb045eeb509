// ChildProcess hands the frame secret to its child on fd 3 only: the child reads it there,
// ARUNNER_FRAME_FD names it, and a child spawned without a secret has no fd 3.

#include "exec/child_process.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

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
    ASSERT_TRUE(std::holds_alternative<ChildProcess>(spawned));
    auto& child = std::get<ChildProcess>(spawned);
    EXPECT_EQ(read_all(child), "3|unset|0123456789abcdef0123456789abcdef|fd4-closed\n");
    EXPECT_EQ(child.wait(), 0);
}

TEST(ChildProcess, WithoutASecretTheChildHasNoFd3) {
    auto spawned =
        ChildProcess::spawn(shell("test -e /proc/$$/fd/3 && echo fd3-open || echo fd3-closed"));
    ASSERT_TRUE(std::holds_alternative<ChildProcess>(spawned));
    auto& child = std::get<ChildProcess>(spawned);
    EXPECT_EQ(read_all(child), "fd3-closed\n");
    child.wait();
}

}  // namespace
}  // namespace arunner::exec
