#include "exec/secret_fifo.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::exec {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

util::UniqueFd open_dir(const fs::path& path) {
    return util::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

/// Reads `fd` to EOF (a blocking reader, as ssh-add is).
std::string read_all(int fd) {
    std::string out;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
        out.append(buffer, static_cast<size_t>(n));
    }
    return out;
}

TEST(SecretFifo, AReaderGetsTheWholeKeyAndTheFifoIsGoneAfterStop) {
    testing::TempDir dir;
    auto art = open_dir(dir.path());
    // Larger than a pipe's buffer: written in several turns.
    std::string key = "-----BEGIN KEY-----\n" + std::string(200 * 1024, 'k') + "\n";
    auto fifo = SecretFifo::create(art.get(), "ssh_key_data", key);
    ASSERT_TRUE(fifo.ok()) << fifo.error().message;
    struct stat st {};
    ASSERT_EQ(::lstat((dir / "ssh_key_data").c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600U);

    util::UniqueFd reader(::open((dir / "ssh_key_data").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(reader.valid());
    EXPECT_EQ(read_all(reader.get()), key);
    EXPECT_EQ((*fifo)->wait(seconds(60)), SecretFifo::Outcome::delivered);
    (*fifo)->stop();
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "ssh_key_data")));
}

TEST(SecretFifo, WithoutAReaderStopEndsTheWriterAndRemovesTheFifo) {
    testing::TempDir dir;
    auto art = open_dir(dir.path());
    auto fifo = SecretFifo::create(art.get(), "ssh_key_data", "KEY");
    ASSERT_TRUE(fifo.ok()) << fifo.error().message;
    EXPECT_EQ((*fifo)->outcome(), SecretFifo::Outcome::waiting);
    (*fifo)->stop();
    EXPECT_EQ((*fifo)->outcome(), SecretFifo::Outcome::stopped);
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "ssh_key_data")));
    (*fifo)->stop();  // again: harmless
}

TEST(SecretFifo, DestroyingItStopsTheWriterAndRemovesTheFifo) {
    testing::TempDir dir;
    auto art = open_dir(dir.path());
    {
        auto fifo = SecretFifo::create(art.get(), "ssh_key_data", "KEY");
        ASSERT_TRUE(fifo.ok()) << fifo.error().message;
    }
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "ssh_key_data")));
}

// A rerun of an ident whose run was killed before it removed its FIFO.
TEST(SecretFifo, ALeftoverFileIsReplacedAndADirectoryRefused) {
    testing::TempDir dir;
    auto art = open_dir(dir.path());
    ASSERT_EQ(::mkfifo((dir / "ssh_key_data").c_str(), 0644), 0);
    auto fifo = SecretFifo::create(art.get(), "ssh_key_data", "KEY");
    ASSERT_TRUE(fifo.ok()) << fifo.error().message;
    struct stat st {};
    ASSERT_EQ(::lstat((dir / "ssh_key_data").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);
    (*fifo)->stop();

    fs::create_directory(dir / "ssh_key_data");
    auto refused = SecretFifo::create(art.get(), "ssh_key_data", "KEY");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("ssh_key_data"), std::string::npos);
}

// A job that puts another FIFO in its place, and reads that, gets nothing.
TEST(SecretFifo, AFifoPutInItsPlaceGetsNothing) {
    testing::TempDir dir;
    auto art = open_dir(dir.path());
    auto fifo = SecretFifo::create(art.get(), "ssh_key_data", "SECRET KEY");
    ASSERT_TRUE(fifo.ok()) << fifo.error().message;
    ASSERT_EQ(::unlink((dir / "ssh_key_data").c_str()), 0);
    ASSERT_EQ(::mkfifo((dir / "ssh_key_data").c_str(), 0600), 0);
    util::UniqueFd reader(
        ::open((dir / "ssh_key_data").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    ASSERT_TRUE(reader.valid());
    // The writer opens it (a reader is there), sees another inode and gives up by itself.
    EXPECT_EQ((*fifo)->wait(seconds(60)), SecretFifo::Outcome::replaced);
    char buffer[64];
    EXPECT_EQ(::read(reader.get(), buffer, sizeof buffer), 0);
    (*fifo)->stop();
    // Not ours: left where the job put it.
    EXPECT_TRUE(fs::is_fifo(dir / "ssh_key_data"));
}

// A symlink in its place (to a FIFO someone reads) is not followed.
TEST(SecretFifo, ASymlinkPutInItsPlaceIsNotFollowed) {
    testing::TempDir dir;
    auto art = open_dir(dir.path());
    auto fifo = SecretFifo::create(art.get(), "ssh_key_data", "SECRET KEY");
    ASSERT_TRUE(fifo.ok()) << fifo.error().message;
    ASSERT_EQ(::mkfifo((dir / "elsewhere").c_str(), 0600), 0);
    util::UniqueFd reader(::open((dir / "elsewhere").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    ASSERT_TRUE(reader.valid());
    ASSERT_EQ(::unlink((dir / "ssh_key_data").c_str()), 0);
    ASSERT_EQ(::symlink("elsewhere", (dir / "ssh_key_data").c_str()), 0);
    EXPECT_EQ((*fifo)->wait(seconds(60)), SecretFifo::Outcome::replaced);
    char buffer[64];
    EXPECT_EQ(::read(reader.get(), buffer, sizeof buffer), 0);
}

// A reader that leaves before the whole key is written neither blocks the writer nor kills the
// process with SIGPIPE.
TEST(SecretFifo, AReaderThatLeavesEarlyEndsTheWriter) {
    testing::TempDir dir;
    auto art = open_dir(dir.path());
    auto fifo = SecretFifo::create(art.get(), "ssh_key_data", std::string(1024 * 1024, 'k'));
    ASSERT_TRUE(fifo.ok()) << fifo.error().message;
    {
        util::UniqueFd reader(::open((dir / "ssh_key_data").c_str(), O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(reader.valid());
        char buffer[16];
        ASSERT_GT(::read(reader.get(), buffer, sizeof buffer), 0);
    }
    EXPECT_EQ((*fifo)->wait(seconds(60)), SecretFifo::Outcome::failed);
}

}  // namespace
}  // namespace arunner::exec
