#include "exec/ssh_agent_socket.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/command.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::exec {
namespace {

namespace fs = std::filesystem;

TEST(SshAgentSocket, CreatesAPrivateDirAndRefusesOneThatExists) {
    testing::TempDir tmp;
    auto socket = SshAgentSocket::create(tmp / "agent", "agent.sock");
    ASSERT_TRUE(socket.ok()) << socket.error().message;
    struct stat st {};
    ASSERT_EQ(::lstat((tmp / "agent").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700U);
    EXPECT_EQ(socket->socket_path(), tmp / "agent" / "agent.sock");
    auto again = SshAgentSocket::create(tmp / "agent", "agent.sock");
    EXPECT_FALSE(again.ok());
    EXPECT_EQ(socket->end(), 0);  // no agent: nothing to kill
    EXPECT_FALSE(fs::exists(tmp / "agent"));
}

// The real ssh-agent: its command exits, the agent (setsid, no longer a descendant of anything
// the test waits for) would live on for up to 10 s; end() kills it and waits for it.
TEST(SshAgentSocket, EndKillsTheAgentThatOutlivedItsCommand) {
    testing::TempDir tmp;
    auto socket = SshAgentSocket::create(tmp / "agent", "agent.sock");
    ASSERT_TRUE(socket.ok()) << socket.error().message;
    const std::string path = socket->socket_path().string();
    auto result =
        testing::run_command({"ssh-agent", "-a", path, "sh", "-c", "echo $SSH_AGENT_PID"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    pid_t agent = std::stoi(result.out);
    util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, agent, 0)));
    ASSERT_TRUE(pidfd.valid()) << "the agent is already gone";
    EXPECT_EQ(processes_on_unix_socket(path), std::vector<pid_t>{agent});

    EXPECT_EQ(socket->end(), 1);
    pollfd p{pidfd.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1) << "the agent still runs";
    EXPECT_TRUE(processes_on_unix_socket(path).empty());
    EXPECT_FALSE(fs::exists(tmp / "agent"));
    EXPECT_EQ(socket->end(), 0);
}

}  // namespace
}  // namespace arunner::exec
