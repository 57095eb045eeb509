// run_job: one local run from `starting` to its final status, with ART/status and ART/rc
// written, on a shell child (no ansible).

#include "runner/local_job.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "support/temp_dir.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

config::JobConfig shell_job(const testing::TempDir& tmp, std::vector<std::string> command) {
    config::JobConfig job;
    job.private_data_dir = tmp.path();
    job.ident = "job";
    job.artifact_dir = tmp / "artifacts/job";
    job.command = std::move(command);
    job.env.set("PATH", "/usr/bin:/bin");
    job.cwd = tmp.path();
    return job;
}

TEST(LocalJob, AFailingChildEndsFailedWithItsExitCode) {
    testing::TempDir tmp;
    std::vector<JobStatus> statuses;
    JobHooks hooks;
    hooks.console_fd = -1;
    hooks.on_status = [&](JobStatus status) { statuses.push_back(status); };
    auto outcome = run_job(shell_job(tmp, {"/bin/sh", "-c", "echo out; exit 3"}), hooks);
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->status, JobStatus::failed);
    EXPECT_EQ(outcome->rc, 3);
    EXPECT_EQ(statuses,
              (std::vector<JobStatus>{JobStatus::starting, JobStatus::running, JobStatus::failed}));
    EXPECT_EQ(read_text(tmp / "artifacts/job/status"), "failed");
    EXPECT_EQ(read_text(tmp / "artifacts/job/rc"), "3");
    EXPECT_EQ(read_text(tmp / "artifacts/job/stdout"), "out\r\n");
}

TEST(LocalJob, AMissingCommandIsRc127WithPexpectsMessage) {
    testing::TempDir tmp;
    JobHooks hooks;
    hooks.console_fd = -1;
    auto outcome = run_job(shell_job(tmp, {"no-such-command-arunner"}), hooks);
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->rc, 127);
    EXPECT_EQ(outcome->status, JobStatus::failed);
    EXPECT_EQ(read_text(tmp / "artifacts/job/rc"), "127");
    EXPECT_EQ(read_text(tmp / "artifacts/job/stdout"),
              "The command was not found or was not executable: no-such-command-arunner.\n");
}

TEST(LocalJob, ACancelledJobIsRc254AndCanceled) {
    testing::TempDir tmp;
    JobHooks hooks;
    hooks.console_fd = -1;
    hooks.should_cancel = [] { return true; };
    auto job = shell_job(tmp, {"/bin/sh", "-c", "sleep 100; touch ran-to-end"});
    job.pexpect_timeout = 0.01;
    auto outcome = run_job(job, hooks);
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_TRUE(outcome->canceled);
    EXPECT_EQ(outcome->rc, 254);
    EXPECT_EQ(read_text(tmp / "artifacts/job/status"), "canceled");
    EXPECT_FALSE(fs::exists(tmp / "ran-to-end"));
}

TEST(LocalJob, AFailedCallbackMakesTheJobAnErrorWithRc1) {
    testing::TempDir tmp;
    JobHooks hooks;
    hooks.console_fd = -1;
    hooks.failed = [] { return true; };
    auto outcome = run_job(shell_job(tmp, {"/bin/sh", "-c", "exit 0"}), hooks);
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->status, JobStatus::error);
    EXPECT_EQ(outcome->rc, 1);
    EXPECT_EQ(read_text(tmp / "artifacts/job/status"), "error");
}

}  // namespace
}  // namespace arunner::runner
