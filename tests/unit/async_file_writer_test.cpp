// src/events/async_file_writer.cpp: job_events files written on a thread of their own must be
// written in order, all of them, and a failed write must not go unnoticed.

#include "events/async_file_writer.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>

#include <string>
#include <vector>

#include "support/file_helpers.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

namespace arunner::events {
namespace {

TEST(AsyncFileWriter, RunsEveryTaskInOrderEvenWithASmallQueue) {
    std::vector<int> done;  // touched only by the writer thread until finish() returns
    AsyncFileWriter writer(2);
    for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(writer.push_task([&done, i]() -> Status {
            done.push_back(i);
            return {};
        }));
    }
    ASSERT_TRUE(writer.finish());
    ASSERT_EQ(done.size(), 200u);
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(done[static_cast<size_t>(i)], i);
    }
}

TEST(AsyncFileWriter, FilesAreOnDiskAfterFinish) {
    testing::TempDir dir;
    util::UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    AsyncFileWriter writer;
    for (int i = 1; i <= 50; ++i) {
        std::string name = std::to_string(i) + "-event.json";
        ASSERT_TRUE(writer.push_task([&fd, &dir, name, i] {
            return util::write_file_at(fd.get(), name, "{\"counter\": " + std::to_string(i) + "}",
                                       0600, dir.path() / name);
        }));
    }
    ASSERT_TRUE(writer.finish());
    EXPECT_EQ(testing::slurp(dir / "1-event.json"), "{\"counter\": 1}");
    EXPECT_EQ(testing::slurp(dir / "50-event.json"), "{\"counter\": 50}");
    EXPECT_EQ(testing::lstat_of(dir / "50-event.json").st_mode & 07777, 0600u);
}

TEST(AsyncFileWriter, TheFirstErrorIsReportedByFinishAndLaterPushes) {
    AsyncFileWriter writer;
    ASSERT_TRUE(writer.push_task([]() -> Status { return Error{"disk full writing 1-a.json"}; }));
    // The writer thread may have run the first task already: then this push reports its error.
    Status second = writer.push_task([]() -> Status { return Error{"second error"}; });
    if (!second) {
        EXPECT_EQ(second.error().message, "disk full writing 1-a.json");
    }
    Status finished = writer.finish();
    ASSERT_FALSE(finished);
    EXPECT_EQ(finished.error().message, "disk full writing 1-a.json");
    Status pushed = writer.push_task([]() -> Status { return {}; });
    ASSERT_FALSE(pushed);
    EXPECT_EQ(pushed.error().message, "disk full writing 1-a.json");
}

TEST(AsyncFileWriter, DestroyingItRunsWhatIsQueued) {
    int ran = 0;
    {
        AsyncFileWriter writer;
        for (int i = 0; i < 20; ++i) {
            ASSERT_TRUE(writer.push_task([&ran]() -> Status {
                ++ran;
                return {};
            }));
        }
    }
    EXPECT_EQ(ran, 20);
}

}  // namespace
}  // namespace arunner::events
