#include "util/read_beneath.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace arunner::util {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

TEST(ReadBeneath, ARegularFileAndAMissingOne) {
    testing::TempDir dir;
    fs::create_directory(dir / "env");
    write(dir / "env/settings", "a: 1\n");
    auto read = read_file_beneath(dir.path().string(), "env/settings", "env/settings");
    ASSERT_TRUE(read.ok()) << read.error().message;
    ASSERT_TRUE(read->has_value());
    EXPECT_EQ(**read, "a: 1\n");
    for (const char* missing : {"env/nope", "nope/settings", "env/settings/below"}) {
        auto none = read_file_beneath(dir.path().string(), missing, missing);
        ASSERT_TRUE(none.ok()) << missing << ": " << none.error().message;
        EXPECT_FALSE(none->has_value()) << missing;
    }
}

TEST(ReadBeneath, ALinkThatStaysInsideIsFollowed) {
    testing::TempDir dir;
    fs::create_directory(dir / "env");
    write(dir / "keys", "key\n");
    fs::create_symlink("../keys", dir / "env/ssh_key");
    auto read = read_file_beneath(dir.path().string(), "env/ssh_key", "env/ssh_key");
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->value_or(""), "key\n");
}

TEST(ReadBeneath, ALinkOutOfTheDirectoryIsRefusedAndTheHostFileIsNotRead) {
    testing::TempDir outside;
    write(outside / "secret", "host secret\n");
    testing::TempDir dir;
    fs::create_directory(dir / "env");
    // An absolute link, a relative one climbing out, and a directory on the way linked out.
    fs::create_symlink(outside / "secret", dir / "env/ssh_key");
    fs::create_symlink("../../" + outside.path().filename().string() + "/secret",
                       dir / "env/cmdline");
    fs::create_symlink(outside.path(), dir / "inventory");
    for (const char* name : {"env/ssh_key", "env/cmdline", "inventory/secret"}) {
        auto read = read_file_beneath(dir.path().string(), name, name);
        ASSERT_FALSE(read.ok()) << name;
        EXPECT_EQ(read.error().message,
                  std::string("cannot read ") + name +
                      ": a link that leads out of its directory; arunner follows no link out of "
                      "a directory a job can write to");
    }
}

TEST(ReadBeneath, DevicesSocketsAndDirectoriesAreRefused) {
    testing::TempDir dir;
    ASSERT_EQ(::mknod((dir / "null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0)
        << "the unit tests run as root (CI does)";
    int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string sock_path = (dir / "sock").string();
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
    ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fs::create_directory(dir / "sub");
    for (const char* name : {"null", "sock"}) {
        auto read = read_file_beneath(dir.path().string(), name, name);
        ASSERT_FALSE(read.ok()) << name;
        EXPECT_NE(read.error().message.find("not a regular file"), std::string::npos)
            << read.error().message;
    }
    auto sub = read_file_beneath(dir.path().string(), "sub", "sub");
    ASSERT_FALSE(sub.ok());
    EXPECT_EQ(sub.error().message, "cannot read sub: Is a directory");
    ::close(sock);
}

TEST(ReadBeneath, ALargerFileThanTheBoundIsRefused) {
    testing::TempDir dir;
    write(dir / "big", std::string(1001, 'x'));
    ReadBounds bounds;
    bounds.max_bytes = 1000;
    auto read = read_file_beneath(dir.path().string(), "big", "env/big", bounds);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().message,
              "cannot read env/big: larger than 1000 bytes, more than arunner reads from such a "
              "file");
    bounds.max_bytes = 1001;
    EXPECT_TRUE(read_file_beneath(dir.path().string(), "big", "env/big", bounds).ok());
}

TEST(ReadBeneath, AFifoWithoutAWriterEndsInAnErrorAfterItsWaitNotAHang) {
    testing::TempDir dir;
    ASSERT_EQ(::mkfifo((dir / "ssh_key").c_str(), 0600), 0);
    testing::FakeClock clock;
    ReadBounds bounds;
    bounds.clock = &clock;
    auto read = read_file_beneath(dir.path().string(), "ssh_key", "env/ssh_key", bounds);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().message,
              "cannot read env/ssh_key: a FIFO that no writer finished within 10000 ms");
    EXPECT_GE(clock.polls(), 1);
}

TEST(ReadBeneath, AFifoIsReadToTheEndOfItsWriter) {
    testing::TempDir dir;
    const fs::path fifo = dir / "ssh_key";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string key(200000, 'k');  // several pipe buffers
    std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << key; });
    auto read = read_file_beneath(dir.path().string(), "ssh_key", "env/ssh_key");
    writer.join();
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->value_or(""), key);
}

TEST(ReadBeneath, AFifoLargerThanTheBoundIsRefused) {
    testing::TempDir dir;
    const fs::path fifo = dir / "envvars";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::thread writer([&] {
        // The reader gives up mid-stream: this thread's write then fails with EPIPE, and its
        // SIGPIPE (sent to this thread) stays blocked here and dies with it.
        sigset_t pipe_signal;
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
        int fd = ::open(fifo.c_str(), O_WRONLY);
        const std::string chunk(4096, 'x');
        while (::write(fd, chunk.data(), chunk.size()) > 0) {
        }
        ::close(fd);
    });
    ReadBounds bounds;
    bounds.max_bytes = 100000;
    auto read = read_file_beneath(dir.path().string(), "envvars", "env/envvars", bounds);
    writer.join();  // the reader closed: the writer's next write fails with EPIPE
    ASSERT_FALSE(read.ok());
    EXPECT_NE(read.error().message.find("larger than 100000 bytes"), std::string::npos);
}

}  // namespace
}  // namespace arunner::util
