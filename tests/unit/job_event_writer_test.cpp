#include "events/job_event_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "support/file_helpers.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::events {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing::lstat_of;
using testing::slurp;

const std::string kUuid = "0242ac11-0002-4d3c-8e1f-00000000000a";

util::UniqueFd open_dir(const fs::path& path) {
    return util::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(JobEventWriter, NamesComeOnlyFromANonNegativeCounterAndAUuid) {
    auto name = JobEventWriter::file_name(Json{{"counter", 3}, {"uuid", kUuid}});
    ASSERT_TRUE(name.ok()) << name.error().message;
    EXPECT_EQ(*name, "3-" + kUuid + ".json");
    EXPECT_TRUE(JobEventWriter::file_name(
                    Json{{"counter", 0}, {"uuid", "ABCDEF01-0002-4D3C-8E1F-00000000000A"}})
                    .ok());

    const std::pair<Json, const char*> refused[] = {
        {Json{{"counter", "../../x"}, {"uuid", kUuid}}, "counter"},
        {Json{{"counter", "3"}, {"uuid", kUuid}}, "counter"},
        {Json{{"counter", -1}, {"uuid", kUuid}}, "counter"},
        {Json{{"counter", 1.5}, {"uuid", kUuid}}, "counter"},
        {Json{{"counter", true}, {"uuid", kUuid}}, "counter"},
        {Json{{"uuid", kUuid}}, "counter"},
        {Json{{"counter", 1}, {"uuid", "../../OUTSIDE-y"}}, "uuid"},
        {Json{{"counter", 1}, {"uuid", kUuid + "/x"}}, "uuid"},
        {Json{{"counter", 1}, {"uuid", "0242ac11-0002-4d3c-8e1f-00000000000g"}}, "uuid"},
        {Json{{"counter", 1}, {"uuid", 7}}, "uuid"},
        {Json{{"counter", 1}}, "uuid"},
    };
    for (const auto& [event, field] : refused) {
        auto bad = JobEventWriter::file_name(event);
        ASSERT_FALSE(bad.ok()) << event.dump();
        EXPECT_NE(bad.error().message.find(std::string("the event's ") + field), std::string::npos)
            << bad.error().message;
    }
}

TEST(JobEventWriter, WritesMode0600AtomicallyWithNoTempFileLeft) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "art");
    auto art = open_dir(tmp / "art");
    auto writer = JobEventWriter::open(art.get(), tmp / "art");
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    Json event{{"counter", 1}, {"uuid", kUuid}, {"stdout", "h\xc3\xa9"}};
    ASSERT_TRUE(writer->write(event).ok());
    ASSERT_TRUE(writer->write(event, false).ok());
    fs::path file = tmp / "art/job_events" / ("1-" + kUuid + ".json");
    EXPECT_EQ(slurp(file), R"({"counter": 1, "uuid": ")" + kUuid + R"(", "stdout": "h\u00e9"})");
    EXPECT_EQ(lstat_of(file).st_mode & 07777, 0600u);
    EXPECT_EQ(lstat_of(tmp / "art/job_events").st_mode & 07777, 0700u);
    EXPECT_EQ(names_in(tmp / "art/job_events"), std::vector<std::string>{"1-" + kUuid + ".json"});
    // A refused name writes nothing.
    EXPECT_FALSE(writer->write(Json{{"counter", 2}, {"uuid", "../../escaped"}}).ok());
    EXPECT_EQ(names_in(tmp / "art/job_events").size(), 1u);
    EXPECT_FALSE(fs::exists(tmp / "escaped.json"));
}

TEST(JobEventWriter, ASymlinkOrFifoAtTheNameIsReplacedNeverFollowedOrOpened) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "art/job_events");
    std::ofstream(tmp / "outside") << "precious";
    auto art = open_dir(tmp / "art");
    auto writer = JobEventWriter::open(art.get(), tmp / "art");
    ASSERT_TRUE(writer.ok());
    for (bool atomic : {true, false}) {
        for (int counter : {1, 2, 3}) {
            fs::path file =
                tmp / "art/job_events" / (std::to_string(counter) + "-" + kUuid + ".json");
            fs::remove(file);
            if (counter == 1) {
                fs::create_symlink(tmp / "outside", file);
            } else if (counter == 2) {
                ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
            } else {
                // A link at the temp name too.
                fs::create_symlink(tmp / "outside", file.string() + ".tmp");
                fs::create_symlink(tmp / "nowhere", file);
            }
            Status written = writer->write(Json{{"counter", counter}, {"uuid", kUuid}}, atomic);
            ASSERT_TRUE(written.ok()) << written.error().message;
            EXPECT_TRUE(S_ISREG(lstat_of(file).st_mode)) << file;
            EXPECT_EQ(Json::parse(slurp(file))["counter"], counter);
            EXPECT_FALSE(fs::exists(fs::symlink_status(fs::path(file.string() + ".tmp"))) && atomic)
                << "temp file left";
            fs::remove(file.string() + ".tmp");
        }
    }
    EXPECT_EQ(slurp(tmp / "outside"), "precious");
    EXPECT_FALSE(fs::exists(tmp / "nowhere"));
}

TEST(JobEventWriter, JobEventsSwappedForASymlinkAfterOpenIsNotFollowed) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "art");
    fs::create_directories(tmp / "outside");
    auto art = open_dir(tmp / "art");
    auto writer = JobEventWriter::open(art.get(), tmp / "art");
    ASSERT_TRUE(writer.ok());
    fs::rename(tmp / "art/job_events", tmp / "art/moved");
    fs::create_directory_symlink(tmp / "outside", tmp / "art/job_events");
    ASSERT_TRUE(writer->write(Json{{"counter", 1}, {"uuid", kUuid}}).ok());
    EXPECT_TRUE(fs::is_empty(tmp / "outside"));
    EXPECT_TRUE(fs::exists(tmp / "art/moved" / ("1-" + kUuid + ".json")));
    // Opening again (what `process` does after a zip) refuses the link.
    Status reopened = writer->reopen();
    ASSERT_FALSE(reopened.ok());
    EXPECT_NE(reopened.error().message.find("symlink"), std::string::npos);
}

/// Makes every write to a regular file past `bytes` fail with EFBIG, as a full disk fails it,
/// for the life of the object (the test process only).
class FileSizeLimit {
  public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        rlimit limit = saved_;
        limit.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

  private:
    rlimit saved_{};
};

TEST(JobEventWriter, AFailedWriteLeavesNoTempFileAndThePreviousFile) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "art");
    auto art = open_dir(tmp / "art");
    auto writer = JobEventWriter::open(art.get(), tmp / "art");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->write(Json{{"counter", 1}, {"uuid", kUuid}}).ok());
    std::string before = slurp(tmp / "art/job_events" / ("1-" + kUuid + ".json"));
    {
        FileSizeLimit full(16);
        Status written = writer->write(
            Json{{"counter", 1}, {"uuid", kUuid}, {"stdout", std::string(4096, 'x')}});
        ASSERT_FALSE(written.ok());
        EXPECT_NE(written.error().message.find("1-" + kUuid + ".json.tmp"), std::string::npos)
            << written.error().message;
        EXPECT_FALSE(
            writer
                ->write(Json{{"counter", 2}, {"uuid", kUuid}, {"stdout", std::string(4096, 'x')}},
                        false)
                .ok());
    }
    EXPECT_EQ(names_in(tmp / "art/job_events"), std::vector<std::string>{"1-" + kUuid + ".json"});
    EXPECT_EQ(slurp(tmp / "art/job_events" / ("1-" + kUuid + ".json")), before);
}

}  // namespace
}  // namespace arunner::events
