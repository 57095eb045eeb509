// cli/pid_lock.cpp: the daemon's pid file and its lock, which alone says whether a daemon lives.

#include "cli/pid_lock.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace arunner::cli {
namespace {

namespace fs = std::filesystem;
using arunner::testing::read_text;
using arunner::testing::TempDir;

TEST(PidLock, NoFileIsNoDaemon) {
    TempDir tmp;
    auto state = inspect_pid_file(tmp / "pid");
    ASSERT_TRUE(state.ok()) << state.error().message;
    EXPECT_FALSE(state->exists);
    EXPECT_FALSE(state->locked);
    EXPECT_FALSE(state->pid);
}

TEST(PidLock, AHeldLockIsALiveDaemonAndRefusesASecondOne) {
    TempDir tmp;
    fs::path path = tmp / "pid";
    auto lock = PidLock::acquire(path);
    ASSERT_TRUE(lock.ok()) << lock.error().message;
    ASSERT_TRUE(lock->write_pid(4242).ok());
    EXPECT_EQ(read_text(path), "4242\n");
    auto state = inspect_pid_file(path);
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE(state->locked);
    EXPECT_EQ(state->pid, 4242);
    // Inspecting did not take the lock away.
    EXPECT_TRUE(inspect_pid_file(path)->locked);

    auto second = PidLock::acquire(path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().message, "a daemon (pid 4242) is already running a job in " +
                                          tmp.path().string() + ": it holds the lock of " +
                                          path.string());
    EXPECT_EQ(read_text(path), "4242\n");  // untouched
    EXPECT_FALSE(PidLock::take_over(path, 4242));

    lock->remove();
    EXPECT_FALSE(fs::exists(path));
}

TEST(PidLock, AStaleFileIsUnlockedAndTakenOverEmptied) {
    TempDir tmp;
    fs::path path = tmp / "pid";
    std::ofstream(path) << ::getpid() << "\n";
    auto state = inspect_pid_file(path);
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE(state->exists);
    EXPECT_FALSE(state->locked);
    EXPECT_EQ(state->pid, ::getpid());

    auto lock = PidLock::acquire(path);
    ASSERT_TRUE(lock.ok()) << lock.error().message;
    // Emptied at once: a locked file never names the pid of a dead daemon.
    EXPECT_EQ(read_text(path), "");
    auto locked = inspect_pid_file(path);
    EXPECT_TRUE(locked->locked);
    EXPECT_FALSE(locked->pid);
}

TEST(PidLock, TakeOverWantsTheSamePidAndAnUnlockedFile) {
    TempDir tmp;
    fs::path path = tmp / "pid";
    std::ofstream(path) << "77\n";
    EXPECT_FALSE(PidLock::take_over(path, 78));
    auto taken = PidLock::take_over(path, 77);
    ASSERT_TRUE(taken);
    EXPECT_TRUE(inspect_pid_file(path)->locked);
    taken->remove();
    EXPECT_FALSE(fs::exists(path));
}

TEST(PidLock, RemoveLeavesAFileThatReplacedTheLockedOne) {
    TempDir tmp;
    fs::path path = tmp / "pid";
    auto lock = PidLock::acquire(path);
    ASSERT_TRUE(lock.ok());
    fs::remove(path);
    std::ofstream(path) << "99\n";  // another daemon's, say
    lock->remove();
    EXPECT_EQ(read_text(path), "99\n");
}

TEST(PidLock, ASymlinkOrADirIsRefused) {
    TempDir tmp;
    fs::create_symlink(tmp / "elsewhere", tmp / "pid");
    EXPECT_FALSE(PidLock::acquire(tmp / "pid").ok());
    EXPECT_FALSE(fs::exists(tmp / "elsewhere"));
    EXPECT_FALSE(inspect_pid_file(tmp / "pid").ok());
    fs::create_directory(tmp / "dir");
    auto dir = PidLock::acquire(tmp / "dir");
    ASSERT_FALSE(dir.ok());
}

}  // namespace
}  // namespace arunner::cli
