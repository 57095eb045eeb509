#include "util/copy_tree.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>

#include "support/temp_dir.hpp"
#include "util/files.hpp"

namespace arunner::util {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CopyTree, FilesModesAndMtimesAreCopiedLinksStayLinksAndFifosAreSkipped) {
    testing::TempDir dir;
    fs::create_directories(dir / "src/sub/deeper");
    std::ofstream(dir / "src/a.yml") << "a";
    std::ofstream(dir / "src/sub/deeper/b.sh") << "#!/bin/sh\n";
    fs::permissions(dir / "src/sub/deeper/b.sh", fs::perms(0750));
    fs::permissions(dir / "src/sub", fs::perms(0711));
    std::ofstream(dir / "outside.txt") << "outside";
    fs::create_symlink(dir / "outside.txt", dir / "src/link");
    fs::create_symlink("../outside-dir", dir / "src/dangling");
    ASSERT_EQ(::mkfifo((dir / "src/fifo").c_str(), 0600), 0);
    struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
    ::utimensat(AT_FDCWD, (dir / "src/a.yml").c_str(), times, 0);
    fs::create_directories(dir / "dst");

    auto copied = copy_tree(dir / "src", dir / "dst");
    ASSERT_TRUE(copied.ok()) << copied.error().message;
    EXPECT_EQ(read(dir / "dst/a.yml"), "a");
    EXPECT_EQ(read(dir / "dst/sub/deeper/b.sh"), "#!/bin/sh\n");
    EXPECT_EQ(fs::status(dir / "dst/sub/deeper/b.sh").permissions(), fs::perms(0750));
    EXPECT_EQ(fs::status(dir / "dst/sub").permissions(), fs::perms(0711));
    EXPECT_EQ(fs::read_symlink(dir / "dst/link"), dir / "outside.txt");
    EXPECT_EQ(fs::read_symlink(dir / "dst/dangling"), "../outside-dir");
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "dst/fifo")));
    struct stat st {};
    ASSERT_EQ(::stat((dir / "dst/a.yml").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
    EXPECT_EQ(read(dir / "src/a.yml"), "a");  // the source is untouched
}

TEST(CopyTree, TreesNestedBeyondTheBoundAreRefused) {
    testing::TempDir dir;
    fs::path deep = dir / "src";
    for (int i = 0; i <= kMaxCopyDepth; ++i) {
        deep /= "d";
    }
    fs::create_directories(deep);
    fs::create_directories(dir / "dst");
    auto copied = copy_tree(dir / "src", dir / "dst");
    ASSERT_FALSE(copied.ok());
    EXPECT_NE(copied.error().message.find("nested more than 256 levels deep"), std::string::npos)
        << copied.error().message;
}

TEST(CopyTree, AMissingSourceIsAnErrorNamingIt) {
    testing::TempDir dir;
    fs::create_directories(dir / "dst");
    auto copied = copy_tree(dir / "nope", dir / "dst");
    ASSERT_FALSE(copied.ok());
    EXPECT_NE(copied.error().message.find((dir / "nope").string()), std::string::npos);
}

// remove_tree: what a job may leave in a copy or a cover, removed without touching anything
// outside it.
TEST(RemoveTree, ReadOnlyDirsLinksFifosAndAMillionLevelsAreRemovedNothingOutside) {
    testing::TempDir dir;
    const fs::path tree = dir / "tree";
    fs::create_directories(tree / "ro");
    std::ofstream(tree / "ro/file") << "x";
    fs::permissions(tree / "ro", fs::perms(0500));
    std::ofstream(dir / "outside.txt") << "keep";
    fs::create_directories(dir / "outside-dir");
    std::ofstream(dir / "outside-dir/file") << "keep";
    fs::create_symlink(dir / "outside.txt", tree / "link");
    fs::create_directory_symlink(dir / "outside-dir", tree / "dirlink");
    ASSERT_EQ(::mkfifo((tree / "fifo").c_str(), 0600), 0);
    // Deeper than any path can name: made one level at a time through descriptors.
    int fd = ::open(tree.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd, 0);
    for (int i = 0; i < 20000; ++i) {
        ASSERT_EQ(::mkdirat(fd, "d", 0700), 0) << i;
        int sub = ::openat(fd, "d", O_RDONLY | O_DIRECTORY);
        ::close(fd);
        ASSERT_GE(sub, 0);
        fd = sub;
    }
    ::close(::openat(fd, "leaf", O_CREAT | O_WRONLY, 0600));
    ::close(fd);

    auto removed = remove_tree(tree);
    ASSERT_TRUE(removed.ok()) << removed.error().message;
    EXPECT_FALSE(fs::exists(fs::symlink_status(tree)));
    EXPECT_EQ(read(dir / "outside.txt"), "keep");
    EXPECT_EQ(read(dir / "outside-dir/file"), "keep");
    EXPECT_TRUE(remove_tree(tree).ok()) << "a path that is gone is fine";
}

}  // namespace
}  // namespace arunner::util
