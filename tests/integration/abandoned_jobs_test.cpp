// A local job whose arunner was SIGKILLed is ended by the next arunner that starts a local job
// (docs/abandoned-jobs.md): every process of it goes, the detached one included, and its ART gets
// status `error`, rc 1 and the reason at the end of its stdout.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>

#include "support/command.hpp"
#include "support/long_job.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(AbandonedJobs, TheNextRunEndsWhatAKilledArunnerLeft) {
    TempDir tmp;
    const std::vector<std::pair<std::string, std::string>> registry = {
        {"ARUNNER_RUNTIME_DIR", (tmp / "runtime").string()}};
    fs::path marker = tmp / "running";
    fs::path pdd = write_long_job(tmp / "long", marker);
    fs::path art = pdd / "artifacts/left";
    BackgroundCommand first(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "left"}),
                            registry);
    ASSERT_TRUE(wait_until([&] { return fs::exists(marker); }, 120s)) << read_text(art / "stdout");
    const pid_t killed = first.pid();
    ASSERT_EQ(::kill(killed, SIGKILL), 0);
    (void)first.finish();
    // What a SIGKILL leaves: the job's detached sleeper runs on (the rest may end on the pty's
    // hangup), with no status.
    const std::string in_job = "AWX_ISOLATED_DATA_DIR=" + art.string();
    ASSERT_FALSE(processes_with_environment(in_job).empty());
    EXPECT_FALSE(fs::exists(art / "status"));

    fs::path next_marker = tmp / "next-ran";
    fs::path next = tmp / "next";
    fs::create_directories(next / "project");
    std::ofstream(next / "project/site.yml") << "- hosts: localhost\n"
                                                "  gather_facts: false\n"
                                                "  tasks:\n"
                                                "    - file: path="
                                             << next_marker.string() << " state=touch\n";
    CommandResult second =
        run_command(arunner({"run", next.string(), "-p", "site.yml", "-i", "next"}), registry);
    EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
    EXPECT_TRUE(fs::exists(next_marker));
    EXPECT_TRUE(wait_until([&] { return processes_with_environment(in_job).empty(); }, 10s));
    EXPECT_EQ(read_text(art / "status"), "error");
    EXPECT_EQ(read_text(art / "rc"), "1");
    const std::string out = read_text(art / "stdout");
    EXPECT_NE(out.find("arunner: the arunner that ran this job (pid " + std::to_string(killed) +
                       ") ended before the job did"),
              std::string::npos)
        << out;
    // No record is left: the killed run's was handled, the second run's removed at its end.
    EXPECT_TRUE(fs::is_empty(tmp / "runtime/jobs"));
}

}  // namespace
}  // namespace arunner::testing
