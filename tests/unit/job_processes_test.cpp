// JobProcesses: every process of a job is killed, also a descendant that left the child's
// session, and waited for until it has exited.

#include "exec/job_processes.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>

#include "exec/child_process.hpp"
#include "util/strings.hpp"

namespace arunner::exec {
namespace {

using namespace std::chrono_literals;

/// Alive and not a zombie.
bool process_alive(pid_t pid) {
    if (::kill(pid, 0) != 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    return text.find(") Z ") == std::string::npos;
}

/// The pids the child prints, one a line, until it has printed `count` of them.
std::vector<pid_t> read_pids(ChildProcess& child, size_t count) {
    std::vector<pid_t> pids;
    std::string line;
    while (pids.size() < count) {
        pollfd p{child.output_fd(), POLLIN, 0};
        if (::poll(&p, 1, 60'000) <= 0) {  // an event awaited, with a generous limit
            break;
        }
        char c = 0;
        ssize_t n = ::read(child.output_fd(), &c, 1);
        if (n == 1 && c == '\n') {
            pids.push_back(util::parse_int<pid_t>(line).value_or(0));
            line.clear();
        } else if (n == 1) {
            line += c;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        }
    }
    return pids;
}

TEST(JobProcesses, KillAllEndsTheGroupAndADescendantThatLeftTheSession) {
    SpawnRequest request;
    request.argv = {"/bin/sh", "-c", "sleep 100 & echo $!; setsid sleep 100 & echo $!; wait"};
    request.envp = {"PATH=/usr/bin:/bin"};
    request.cwd = "/";
    request.terminal = Terminal::pipes;
    auto child = ChildProcess::spawn(request);
    ASSERT_TRUE(child.ok()) << child.error().message;
    std::vector<pid_t> pids = read_pids(*child, 2);
    ASSERT_EQ(pids.size(), 2u);
    for (pid_t pid : pids) {
        ASSERT_GT(pid, 0);
        ASSERT_TRUE(process_alive(pid));
    }

    JobProcesses processes(child->pid());
    processes.kill_all();
    child->wait();
    EXPECT_TRUE(processes.wait_all(60s));
    EXPECT_FALSE(process_alive(child->pid()));
    for (pid_t pid : pids) {
        EXPECT_FALSE(process_alive(pid)) << pid;
    }
}

TEST(JobProcesses, KillAllAfterTheJobEndedIsHarmless) {
    SpawnRequest request;
    request.argv = {"/bin/sh", "-c", "exit 0"};
    request.envp = {"PATH=/usr/bin:/bin"};
    request.cwd = "/";
    request.terminal = Terminal::pipes;
    auto child = ChildProcess::spawn(request);
    ASSERT_TRUE(child.ok()) << child.error().message;
    EXPECT_EQ(child->wait(), 0);
    JobProcesses processes(child->pid());
    processes.kill_all();
    processes.kill_all();
    EXPECT_TRUE(processes.wait_all(60s));
}

}  // namespace
}  // namespace arunner::exec
