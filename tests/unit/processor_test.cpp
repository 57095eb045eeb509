// The processor on the worker stream recorded from Debian's ansible-runner 2.3.1
// (tests/fixtures/vectors, copied from ../shared/vectors).

#include "stream/processor.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "support/file_helpers.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
const fs::path kVectors = fs::path(ARUNNER_FIXTURES) / "vectors";

using testing::slurp;

ProcessResult process_file(const fs::path& stream, ProcessorOptions options) {
    util::UniqueFd fd(::open(stream.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    return run_processor(fd.get(), options);
}

TEST(Processor, RecordedWorkerStreamGivesTheRunsArtifacts) {
    testing::TempDir tmp;
    ProcessorOptions options;
    options.private_data_dir = tmp.path();
    options.ident = "00000000000000000000000000000001";
    options.console_fd = -1;
    std::vector<std::string> statuses;
    std::vector<std::string> event_types;
    options.callbacks.status_handler = [&](const StatusUpdate& u) {
        statuses.push_back(std::string(to_string(u.status)));
        if (u.status == JobStatus::starting) {
            EXPECT_EQ(u.command,
                      (std::vector<std::string>{"ansible-playbook", "-i",
                                                "/tmp/arunner-vector/inventory", "site.yml"}));
            EXPECT_EQ(u.cwd, "/tmp/arunner-vector/project");
        }
    };
    options.callbacks.event_handler = [&](Json& e) {
        event_types.push_back(e["event"].get<std::string>());
        return true;
    };
    bool artifacts_called = false;
    options.callbacks.artifacts_handler = [&](const fs::path&) { artifacts_called = true; };
    ProcessResult result = process_file(kVectors / "small.worker-stream", options);
    EXPECT_EQ(result.status, JobStatus::successful);
    EXPECT_EQ(statuses, (std::vector<std::string>{"starting", "running", "successful"}));
    EXPECT_EQ(event_types.size(), 14u);
    EXPECT_EQ(event_types.front(), "playbook_on_start");
    EXPECT_EQ(event_types.back(), "playbook_on_stats");
    EXPECT_TRUE(artifacts_called);
    fs::path art = tmp / "artifacts/00000000000000000000000000000001";
    EXPECT_EQ(slurp(art / "status"), "successful");
    EXPECT_EQ(slurp(art / "rc"), "0");
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(art / "job_events")) {
        ++files;
    }
    EXPECT_EQ(files, 14u);
    EXPECT_NE(slurp(art / "stdout").find("PLAY [vector play]"), std::string::npos);
}

TEST(Processor, WithoutIdentArtifactsGoToTheArtifactsDir) {
    testing::TempDir tmp;
    ProcessorOptions options;
    options.private_data_dir = tmp.path();
    options.console_fd = -1;
    ProcessResult result = process_file(kVectors / "small.worker-stream", options);
    EXPECT_EQ(result.status, JobStatus::successful);
    EXPECT_EQ(slurp(tmp / "artifacts/status"), "successful");
}

TEST(Processor, FalseFromTheEventHandlerWritesNoFiles) {
    testing::TempDir tmp;
    ProcessorOptions options;
    options.private_data_dir = tmp.path();
    options.ident = "x";
    options.console_fd = -1;
    options.callbacks.event_handler = [](Json&) { return false; };
    process_file(kVectors / "small.worker-stream", options);
    EXPECT_TRUE(fs::is_empty(tmp / "artifacts/x/job_events"));
}

TEST(Processor, StreamCutInsideTheZipIsAnError) {
    testing::TempDir tmp;
    std::string stream = slurp(kVectors / "small.worker-stream");
    size_t zip = stream.find("{\"zipfile\"");
    ASSERT_NE(zip, std::string::npos);
    std::ofstream(tmp / "cut") << stream.substr(0, zip + 100);
    ProcessorOptions options;
    options.private_data_dir = tmp / "out";
    options.console_fd = -1;
    ProcessResult result = process_file(tmp / "cut", options);
    EXPECT_EQ(result.status, JobStatus::error);
    EXPECT_NE(result.error.find("zip"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace arunner::stream
