#include "artifacts/artifact_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <fstream>
#include <sstream>

#include "support/temp_dir.hpp"

namespace arunner::artifacts {
namespace {

std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

mode_t mode_of(const std::filesystem::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

TEST(ArtifactDir, CreatesArtAndJobEventsWithMode0700) {
    testing::TempDir tmp;
    auto dir = ArtifactDir::create(tmp / "artifacts/abc");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    EXPECT_EQ(mode_of(tmp / "artifacts/abc"), 0700u);
    EXPECT_EQ(mode_of(tmp / "artifacts/abc/job_events"), 0700u);
}

TEST(ArtifactDir, CommandFileIsPythonJsonWithRawUtf8) {
    testing::TempDir tmp;
    auto dir = ArtifactDir::create(tmp / "a");
    ASSERT_TRUE(dir.ok());
    util::Environment env;
    env.set("PATH", "/bin");
    env.set("GREETING", "h\xC3\xA9llo \"x\"");
    ASSERT_TRUE(dir->write_command({"ansible-playbook", "-i", "/inv", "site.yml"}, "/p", env).ok());
    EXPECT_EQ(slurp(tmp / "a/command"),
              "{\"command\": [\"ansible-playbook\", \"-i\", \"/inv\", \"site.yml\"], \"cwd\": "
              "\"/p\", \"env\": {\"PATH\": \"/bin\", \"GREETING\": \"h\xC3\xA9llo \\\"x\\\"\"}}");
    EXPECT_EQ(mode_of(tmp / "a/command"), 0600u);
}

TEST(ArtifactDir, StatusAndRcHaveNoNewline) {
    testing::TempDir tmp;
    auto dir = ArtifactDir::create(tmp / "a");
    ASSERT_TRUE(dir.ok());
    ASSERT_TRUE(dir->write_status(JobStatus::successful).ok());
    ASSERT_TRUE(dir->write_rc(0).ok());
    EXPECT_EQ(slurp(tmp / "a/status"), "successful");
    EXPECT_EQ(slurp(tmp / "a/rc"), "0");
    ASSERT_TRUE(dir->write_rc(std::nullopt).ok());
    EXPECT_EQ(slurp(tmp / "a/rc"), "None");
    EXPECT_EQ(mode_of(tmp / "a/status"), 0600u);
    EXPECT_EQ(mode_of(tmp / "a/rc"), 0600u);
}

TEST(ArtifactDir, OutputFilesAreTruncatedAndAppended) {
    testing::TempDir tmp;
    auto dir = ArtifactDir::create(tmp / "a");
    ASSERT_TRUE(dir.ok());
    std::ofstream(tmp / "a/stdout") << "old content";
    ASSERT_TRUE(dir->open_output_files().ok());
    ASSERT_TRUE(dir->append_stdout("one ").ok());
    ASSERT_TRUE(dir->append_stdout("two").ok());
    dir->close_output_files();
    EXPECT_EQ(slurp(tmp / "a/stdout"), "one two");
    EXPECT_EQ(slurp(tmp / "a/stderr"), "");
    EXPECT_EQ(mode_of(tmp / "a/stdout"), 0600u);
    EXPECT_EQ(mode_of(tmp / "a/stderr"), 0600u);
}

TEST(RotateArtifacts, KeepsTheNewestEntries) {
    testing::TempDir tmp;
    for (int i = 0; i < 4; ++i) {
        auto path = tmp / ("run" + std::to_string(i));
        std::filesystem::create_directory(path);
        struct utimbuf times {
            1000000 + i * 10, 1000000 + i * 10
        };
        ::utime(path.c_str(), &times);
    }
    ASSERT_TRUE(rotate_artifacts(tmp.path(), 2).ok());
    EXPECT_FALSE(std::filesystem::exists(tmp / "run0"));
    EXPECT_FALSE(std::filesystem::exists(tmp / "run1"));
    EXPECT_TRUE(std::filesystem::exists(tmp / "run2"));
    EXPECT_TRUE(std::filesystem::exists(tmp / "run3"));
    ASSERT_TRUE(rotate_artifacts(tmp.path(), 0).ok());
    EXPECT_TRUE(std::filesystem::exists(tmp / "run2"));
}

}  // namespace
}  // namespace arunner::artifacts
