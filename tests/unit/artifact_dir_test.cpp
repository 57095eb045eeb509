#include "artifacts/artifact_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <utime.h>

#include <algorithm>
#include <vector>

#include <fstream>
#include <sstream>

#include "events/job_event_writer.hpp"
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

TEST(RotateArtifacts, TheCurrentRunsDirIsKeptWhateverItsMtime) {
    testing::TempDir tmp;
    for (int i = 0; i < 3; ++i) {
        auto path = tmp / ("run" + std::to_string(i));
        std::filesystem::create_directory(path);
        struct utimbuf times {
            1000000 + i * 10, 1000000 + i * 10
        };
        ::utime(path.c_str(), &times);
    }
    // The running job's ART, dated long ago (or far ahead: a job can touch it either way).
    struct utimbuf old_times {
        10, 10
    };
    ::utime((tmp / "run0").c_str(), &old_times);
    ASSERT_TRUE(rotate_artifacts(tmp.path(), 1, "run0").ok());
    EXPECT_TRUE(std::filesystem::exists(tmp / "run0"));
    EXPECT_FALSE(std::filesystem::exists(tmp / "run1"));
    EXPECT_FALSE(std::filesystem::exists(tmp / "run2"));
}

TEST(ArtifactDir, AFactCacheLinkedOutOfArtIsReplacedByARealDirectory) {
    testing::TempDir host;
    std::filesystem::create_directory(host / "etc");
    testing::TempDir tmp;
    auto dir = ArtifactDir::create(tmp / "art");
    ASSERT_TRUE(dir.ok());
    std::filesystem::create_directory_symlink(host / "etc", tmp / "art/fact_cache");
    ASSERT_TRUE(dir->repair_fact_cache(tmp / "art/fact_cache").ok());
    EXPECT_FALSE(std::filesystem::is_symlink(tmp / "art/fact_cache"));
    EXPECT_TRUE(std::filesystem::is_directory(tmp / "art/fact_cache"));
    EXPECT_TRUE(std::filesystem::exists(host / "etc")) << "the link's target is left alone";
    // A file or FIFO in its place too, and a nested setting's link on the way.
    std::filesystem::remove(tmp / "art/fact_cache");
    ASSERT_EQ(::mkfifo((tmp / "art/fact_cache").c_str(), 0600), 0);
    ASSERT_TRUE(dir->repair_fact_cache(tmp / "art/fact_cache").ok());
    EXPECT_TRUE(std::filesystem::is_directory(tmp / "art/fact_cache"));
    std::filesystem::create_directory_symlink(host / "etc", tmp / "art/nested");
    ASSERT_TRUE(dir->repair_fact_cache(tmp / "art/nested/cache").ok());
    EXPECT_FALSE(std::filesystem::is_symlink(tmp / "art/nested"));
    EXPECT_TRUE(std::filesystem::is_empty(host / "etc"));
    // A real one keeps its facts; a missing one is left for ansible; one outside ART is the user's.
    std::ofstream(tmp / "art/fact_cache/host1") << "{}";
    ASSERT_TRUE(dir->repair_fact_cache(tmp / "art/fact_cache").ok());
    EXPECT_TRUE(std::filesystem::exists(tmp / "art/fact_cache/host1"));
    ASSERT_TRUE(dir->repair_fact_cache(tmp / "art/missing").ok());
    EXPECT_FALSE(std::filesystem::exists(tmp / "art/missing"));
    ASSERT_TRUE(dir->repair_fact_cache(host / "etc").ok());
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

// The attack: the job (whose mount ART is) replaces ART by a symlink to a host directory after
// arunner opened it. Every later write lands in the directory arunner created.
TEST(ArtifactDir, ArtSwappedForASymlinkAfterCreateIsNeverWrittenThrough) {
    namespace fs = std::filesystem;
    testing::TempDir tmp;
    fs::create_directories(tmp / "host");
    std::ofstream(tmp / "host/status") << "host file";
    ::chmod((tmp / "host/status").c_str(), 0644);
    ::chmod((tmp / "host").c_str(), 0755);
    const mode_t host_mode = mode_of(tmp / "host");
    auto dir = ArtifactDir::create(tmp / "artifacts/id");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    ASSERT_TRUE(dir->open_output_files().ok());
    fs::rename(tmp / "artifacts/id", tmp / "artifacts/moved");
    fs::create_directory_symlink(tmp / "host", tmp / "artifacts/id");

    util::Environment env;
    env.set("A", "b");
    ASSERT_TRUE(dir->write_command({"x"}, "/", env).ok());
    ASSERT_TRUE(dir->append_stdout("out").ok());
    ASSERT_TRUE(dir->write_env_list(env).ok());
    ASSERT_TRUE(dir->write_file("container_id", "c\n").ok());
    ASSERT_TRUE(dir->write_status(JobStatus::failed).ok());
    ASSERT_TRUE(dir->write_rc(2).ok());
    auto events = events::JobEventWriter::open(dir->fd(), dir->path());
    ASSERT_TRUE(events.ok());
    ASSERT_TRUE(events
                    ->write(nlohmann::ordered_json{
                        {"counter", 1}, {"uuid", "0242ac11-0002-4d3c-8e1f-00000000000a"}})
                    .ok());
    dir->close_output_files();

    EXPECT_EQ(names_in(tmp / "host"), std::vector<std::string>{"status"});
    EXPECT_EQ(slurp(tmp / "host/status"), "host file");
    EXPECT_EQ(mode_of(tmp / "host/status"), 0644u);
    EXPECT_EQ(mode_of(tmp / "host"), host_mode);
    EXPECT_EQ(slurp(tmp / "artifacts/moved/status"), "failed");
    EXPECT_EQ(slurp(tmp / "artifacts/moved/rc"), "2");
    EXPECT_EQ(slurp(tmp / "artifacts/moved/stdout"), "out");
    EXPECT_EQ(slurp(tmp / "artifacts/moved/container_id"), "c\n");
    EXPECT_EQ(names_in(tmp / "artifacts/moved/job_events").size(), 1u);

    // Writers that hold only ART's path refuse the link instead of following it.
    Status by_path = write_art_file(tmp / "artifacts/id", "rc", "1", true);
    ASSERT_FALSE(by_path.ok());
    EXPECT_NE(by_path.error().message.find("symlink"), std::string::npos);
    EXPECT_EQ(names_in(tmp / "host"), std::vector<std::string>{"status"});
}

TEST(ArtifactDir, ASymlinkAtArtIsRefused) {
    namespace fs = std::filesystem;
    testing::TempDir tmp;
    fs::create_directories(tmp / "artifacts");
    fs::create_directories(tmp / "host");
    fs::create_directory_symlink(tmp / "host", tmp / "artifacts/id");
    auto dir = ArtifactDir::create(tmp / "artifacts/id");
    ASSERT_FALSE(dir.ok());
    EXPECT_NE(dir.error().message.find("symlink"), std::string::npos) << dir.error().message;
    EXPECT_TRUE(fs::is_empty(tmp / "host"));
    // The artifact root itself is the user's and may be a link they made.
    fs::create_directory_symlink(tmp / "artifacts", tmp / "root-link");
    auto through_root = ArtifactDir::create(tmp / "root-link/other");
    ASSERT_TRUE(through_root.ok()) << through_root.error().message;
    EXPECT_TRUE(fs::is_directory(tmp / "artifacts/other/job_events"));
}

TEST(ArtifactDir, StatusAndRcOnAFullDiskKeepThePreviousContent) {
    testing::TempDir tmp;
    auto dir = ArtifactDir::create(tmp / "a");
    ASSERT_TRUE(dir.ok());
    ASSERT_TRUE(dir->write_status(JobStatus::running).ok());
    ASSERT_TRUE(dir->write_rc(std::nullopt).ok());
    {
        // Every write to a regular file fails with EFBIG, as on a full disk.
        ::signal(SIGXFSZ, SIG_IGN);
        rlimit saved{};
        ::getrlimit(RLIMIT_FSIZE, &saved);
        rlimit zero = saved;
        zero.rlim_cur = 0;
        ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &zero), 0);
        Status status = dir->write_status(JobStatus::failed);
        Status rc = dir->write_rc(2);
        ::setrlimit(RLIMIT_FSIZE, &saved);
        ASSERT_FALSE(status.ok());
        ASSERT_FALSE(rc.ok());
        EXPECT_NE(status.error().message.find("status"), std::string::npos);
    }
    EXPECT_EQ(slurp(tmp / "a/status"), "running");
    EXPECT_EQ(slurp(tmp / "a/rc"), "None");
    EXPECT_EQ(names_in(tmp / "a"), (std::vector<std::string>{"job_events", "rc", "status"}));
}

TEST(RotateArtifacts, NeverFollowsALinkWhenRemoving) {
    namespace fs = std::filesystem;
    testing::TempDir tmp;
    fs::create_directories(tmp / "root");
    fs::create_directories(tmp / "host/keep");
    std::ofstream(tmp / "host/keep/file") << "x";
    fs::create_directory_symlink(tmp / "host", tmp / "root/run0");
    fs::create_directories(tmp / "root/run1/sub");
    fs::create_directory_symlink(tmp / "host", tmp / "root/run1/sub/inner");
    ::chmod((tmp / "root/run1/sub").c_str(), 0500);  // a read-only dir is emptied too
    fs::create_directories(tmp / "root/run2");
    int i = 0;
    for (const char* name : {"run0", "run1", "run2"}) {
        timespec times[2] = {{1000000 + i * 10, 0}, {1000000 + i * 10, 0}};
        ::utimensat(AT_FDCWD, (tmp / "root" / name).c_str(), times, AT_SYMLINK_NOFOLLOW);
        ++i;
    }
    Status rotated = rotate_artifacts(tmp / "root", 1);
    ASSERT_TRUE(rotated.ok()) << rotated.error().message;
    EXPECT_EQ(names_in(tmp / "root"), std::vector<std::string>{"run2"});
    EXPECT_EQ(slurp(tmp / "host/keep/file"), "x");
}

}  // namespace
}  // namespace arunner::artifacts
