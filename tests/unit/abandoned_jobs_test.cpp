#include "runner/abandoned_jobs.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/scoped_variable.hpp"
#include "support/temp_dir.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<fs::path> records_in(const fs::path& registry) {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(registry)) {
        out.push_back(entry.path());
    }
    return out;
}

TEST(AbandonedJobs, ARecordIsLockedWhileItLivesAndRemovedAfter) {
    testing::TempDir tmp;
    const fs::path registry = tmp.path() / "rt/jobs";
    {
        auto record = JobRecord::create(registry, tmp.path() / "art", "one");
        ASSERT_TRUE(record.ok()) << record.error().message;
        EXPECT_EQ(record->environment_entry().rfind("ARUNNER_JOB=", 0), 0u);
        EXPECT_EQ(record->environment_entry().size(), 12u + 32u);
        auto records = records_in(registry);
        ASSERT_EQ(records.size(), 1u);
        // Its lock is held: another open file cannot take it, and a sweep leaves it alone.
        int fd = ::open(records[0].c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
        ::close(fd);
        EXPECT_TRUE(end_abandoned_jobs(registry).empty());
        EXPECT_EQ(records_in(registry).size(), 1u);
        struct stat st {};
        ASSERT_EQ(::stat(registry.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0700u);
    }
    EXPECT_TRUE(records_in(registry).empty());
}

TEST(AbandonedJobs, AnUnlockedRecordsJobIsConcluded) {
    testing::TempDir tmp;
    const fs::path registry = tmp.path() / "rt/jobs";
    const fs::path art = tmp.path() / "art";
    fs::create_directories(registry);
    fs::permissions(registry.parent_path(), fs::perms::owner_all);
    fs::permissions(registry, fs::perms::owner_all);
    fs::create_directories(art);
    std::ofstream(art / "stdout") << "PLAY [all]\n";
    std::ofstream(registry / "job-0123456789abcdef0123456789abcdef.json")
        << R"({"marker": "0123456789abcdef0123456789abcdef", "controller_pid": 4242,)"
        << R"( "artifact_dir": ")" << art.string() << R"(", "ident": "one"})";
    std::ofstream(registry / "job-ffffffffffffffffffffffffffffffff.json") << "not json";
    auto done = end_abandoned_jobs(registry);
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(read_text(art / "status"), "error");
    EXPECT_EQ(read_text(art / "rc"), "1");
    EXPECT_NE(read_text(art / "stdout")
                  .find("PLAY [all]\n\narunner: the arunner that ran this "
                        "job (pid 4242) ended before the job did"),
              std::string::npos)
        << read_text(art / "stdout");
    EXPECT_TRUE(records_in(registry).empty());
}

TEST(AbandonedJobs, AStatusTheDeadArunnerWroteIsKept) {
    testing::TempDir tmp;
    const fs::path registry = tmp.path() / "jobs";
    const fs::path art = tmp.path() / "art";
    fs::create_directories(registry);
    fs::create_directories(art);
    std::ofstream(art / "status") << "successful";
    std::ofstream(registry / "job-0123456789abcdef0123456789abcdef.json")
        << R"({"marker": "0123456789abcdef0123456789abcdef", "artifact_dir": ")" << art.string()
        << R"("})";
    EXPECT_EQ(end_abandoned_jobs(registry).size(), 1u);
    EXPECT_EQ(read_text(art / "status"), "successful");
    EXPECT_FALSE(fs::exists(art / "rc"));
}

TEST(AbandonedJobs, ARegistryThatIsALinkOrOpenToOthersIsRefused) {
    testing::TempDir tmp;
    fs::create_directories(tmp.path() / "elsewhere");
    fs::permissions(tmp.path() / "elsewhere", fs::perms::owner_all);
    fs::create_directory_symlink(tmp.path() / "elsewhere", tmp.path() / "link");
    auto linked = JobRecord::create(tmp.path() / "link/jobs", tmp.path() / "art", "one");
    ASSERT_FALSE(linked.ok());
    EXPECT_NE(linked.error().message.find("not a private directory"), std::string::npos);
    fs::create_directories(tmp.path() / "open/jobs");
    fs::permissions(tmp.path() / "open", fs::perms::owner_all);
    fs::permissions(tmp.path() / "open/jobs", fs::perms::all);
    EXPECT_FALSE(JobRecord::create(tmp.path() / "open/jobs", tmp.path() / "art", "one").ok());
}

TEST(AbandonedJobs, AnArtPathThatIsNotUtf8IsRecordedWithoutThrowing) {
    testing::TempDir tmp;
    auto record = JobRecord::create(tmp.path() / "rt/jobs", tmp.path() / "art\xff", "one\xfe");
    ASSERT_TRUE(record.ok()) << record.error().message;
    EXPECT_EQ(records_in(tmp.path() / "rt/jobs").size(), 1u);
}

TEST(AbandonedJobs, TheRegistryFollowsArunnerRuntimeDir) {
    testing::ScopedVariable dir("ARUNNER_RUNTIME_DIR", "/some/where");
    EXPECT_EQ(job_registry_dir(), fs::path("/some/where/jobs"));
}

}  // namespace
}  // namespace arunner::runner
