// src/util/files.cpp: the file helpers every artifact write goes through — exact modes, atomic
// replacement, errors that name the path, and no symlink ever followed.

#include "util/files.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/file_helpers.hpp"
#include "support/temp_dir.hpp"

namespace arunner::util {
namespace {

namespace fs = std::filesystem;
using testing::lstat_of;
using testing::slurp;

mode_t mode_of(const fs::path& path) {
    return lstat_of(path).st_mode & 07777;
}

TEST(Files, ReadFileOfAMissingFileNamesThePath) {
    testing::TempDir dir;
    auto read = read_file(dir / "missing");
    ASSERT_FALSE(read);
    EXPECT_NE(read.error().message.find((dir / "missing").string()), std::string::npos)
        << read.error().message;
}

TEST(Files, WriteFileHasExactlyTheModeAndReplacesContent) {
    testing::TempDir dir;
    ASSERT_TRUE(write_file(dir / "status", "running", 0640));
    ASSERT_TRUE(write_file(dir / "status", "ok", 0600));
    auto read = read_file(dir / "status");
    ASSERT_TRUE(read);
    EXPECT_EQ(*read, "ok");
    EXPECT_EQ(mode_of(dir / "status"), 0600u);
}

TEST(Files, WriteFileRefusesASymlinkAndLeavesItsTargetAlone) {
    testing::TempDir dir;
    ASSERT_TRUE(write_file(dir / "target", "mine", 0600));
    fs::create_symlink(dir / "target", dir / "link");
    EXPECT_FALSE(write_file(dir / "link", "theirs", 0600));
    EXPECT_EQ(slurp(dir / "target"), "mine");
}

TEST(Files, WriteFileAtomicLeavesNoTempFile) {
    testing::TempDir dir;
    ASSERT_TRUE(write_file_atomic(dir / "rc", "0", 0600));
    ASSERT_TRUE(write_file_atomic(dir / "rc", "2", 0600));
    EXPECT_EQ(slurp(dir / "rc"), "2");
    EXPECT_EQ(mode_of(dir / "rc"), 0600u);
    EXPECT_FALSE(fs::exists(dir / "rc.tmp"));
}

TEST(Files, MakeDirsCreatesParentsWithTheModeAndRefusesAFile) {
    testing::TempDir dir;
    ASSERT_TRUE(make_dirs(dir / "a" / "b" / "c", 0700));
    EXPECT_TRUE(fs::is_directory(dir / "a" / "b" / "c"));
    EXPECT_EQ(mode_of(dir / "a" / "b"), 0700u);
    ASSERT_TRUE(make_dirs(dir / "a" / "b" / "c", 0700));  // existing is fine
    ASSERT_TRUE(write_file(dir / "file", "", 0600));
    EXPECT_FALSE(make_dirs(dir / "file", 0700));
}

TEST(Files, AbsolutePathIsLexicalLikeOsPathAbspath) {
    EXPECT_EQ(absolute_path("/a/b/../c/./d"), fs::path("/a/c/d"));
    EXPECT_EQ(absolute_path("x"), fs::current_path() / "x");
}

TEST(Files, WriteFileAtReplacesAFifoWithoutBlocking) {
    testing::TempDir dir;
    ASSERT_EQ(::mkfifo((dir / "stdout").c_str(), 0600), 0);
    UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(write_file_at(fd.get(), "stdout", "text", 0600, dir / "stdout"));
    EXPECT_TRUE(S_ISREG(lstat_of(dir / "stdout").st_mode));
    EXPECT_EQ(slurp(dir / "stdout"), "text");
}

TEST(Files, RemoveTreeAtRemovesSymlinksNotWhatTheyPointAt) {
    testing::TempDir dir;
    ASSERT_TRUE(make_dirs(dir / "outside", 0700));
    ASSERT_TRUE(write_file(dir / "outside" / "keep", "x", 0600));
    ASSERT_TRUE(make_dirs(dir / "tree" / "sub", 0700));
    ASSERT_TRUE(write_file(dir / "tree" / "sub" / "file", "y", 0600));
    fs::create_directory_symlink(dir / "outside", dir / "tree" / "sub" / "link");
    UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(remove_tree_at(fd.get(), "tree", dir / "tree"));
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "tree")));
    EXPECT_EQ(slurp(dir / "outside" / "keep"), "x");
    EXPECT_TRUE(remove_tree_at(fd.get(), "tree", dir / "tree"));  // already gone is fine
}

TEST(Files, OpenDirAtRefusesASymlink) {
    testing::TempDir dir;
    ASSERT_TRUE(make_dirs(dir / "real", 0700));
    fs::create_directory_symlink(dir / "real", dir / "link");
    EXPECT_TRUE(open_dir_at(AT_FDCWD, dir / "real", dir / "real"));
    EXPECT_FALSE(open_dir_at(AT_FDCWD, dir / "link", dir / "link"));
}

}  // namespace
}  // namespace arunner::util
