// `worker cleanup` over hostile trees: read-only dirs, symlinks, a glob-shaped artifact name, a
// dir whose worker holds the lock.

#include "runner/worker_cleanup.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "support/temp_dir.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

/// Runs cleanup over `pattern` with no grace period; what it printed goes to `printed`.
Result<CleanupResult> cleanup(const std::string& pattern, std::string& printed) {
    CleanupOptions options;
    options.file_pattern = pattern;
    options.grace_period_minutes = 0;
    char* buffer = nullptr;
    size_t size = 0;
    std::FILE* out = ::open_memstream(&buffer, &size);
    auto result = cleanup_private_data_dirs(options, out);
    std::fclose(out);
    printed.assign(buffer, size);
    std::free(buffer);
    return result;
}

TEST(WorkerCleanup, ReadOnlyDirsInsideAFinishedJobAreRemoved) {
    testing::TempDir tmp;
    fs::path pdd = tmp / "pdd_ro";
    write(pdd / "artifacts/job/ro/inner/file", "x");
    ::chmod((pdd / "artifacts/job/ro/inner").c_str(), 0555);
    ::chmod((pdd / "artifacts/job/ro").c_str(), 0555);
    std::string printed;
    auto result = cleanup((tmp / "pdd_*").string(), printed);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->removed, 1);
    EXPECT_FALSE(fs::exists(pdd));
}

TEST(WorkerCleanup, SymlinksAreRemovedNeverFollowed) {
    testing::TempDir tmp;
    testing::TempDir outside;
    write(outside / "keep/precious", "x");
    fs::path pdd = tmp / "pdd_links";
    fs::create_directories(pdd / "project");
    fs::create_directory_symlink(outside / "keep", pdd / "project/dirlink");
    fs::create_symlink(outside / "keep/precious", pdd / "filelink");
    std::string printed;
    auto result = cleanup((tmp / "pdd_*").string(), printed);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_FALSE(fs::exists(pdd));
    EXPECT_TRUE(fs::exists(outside / "keep/precious"));
}

// A dir whose flock is held (as a running worker holds it) is never touched, whatever files it
// holds, the former lock file's name included.
TEST(WorkerCleanup, ALockedDirIsNeverRemoved) {
    testing::TempDir tmp;
    fs::path running = tmp / "pdd_running";
    write(running / "project/site.yml", "x");
    write(running / ".arunner-worker.lock", "");  // the old lock file's name means nothing now
    int fd = ::open(running.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    fs::path done = tmp / "pdd_done";
    write(done / "artifacts/job/status", "successful");
    std::string printed;
    auto result = cleanup((tmp / "pdd_*").string(), printed);
    ::close(fd);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->removed, 1);
    EXPECT_TRUE(fs::exists(running / "project/site.yml"));
    EXPECT_FALSE(fs::exists(done));
    EXPECT_NE(printed.find("Excluding running project " + running.string()), std::string::npos)
        << printed;
}

// A symlink among the matches is refused as a whole: nothing at all is removed.
TEST(WorkerCleanup, ASymlinkMatchRefusesThePatternAndRemovesNothing) {
    testing::TempDir tmp;
    testing::TempDir outside;
    write(outside / "project/x", "x");
    write(tmp / "pdd_a/project/x", "x");
    fs::create_directory_symlink(outside.path(), tmp / "pdd_b");
    std::string printed;
    auto result = cleanup((tmp / "pdd_*").string(), printed);
    EXPECT_FALSE(result.ok());
    EXPECT_TRUE(fs::exists(tmp / "pdd_a/project/x"));
    EXPECT_TRUE(fs::exists(outside / "project/x"));
}

TEST(WorkerCleanup, GlobEscapeMatchesLiterally) {
    EXPECT_EQ(glob_escape("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
    EXPECT_EQ(glob_escape("plain-ident_1"), "plain-ident_1");
}

}  // namespace
}  // namespace arunner::runner
