// Daemon mode with a process-isolation job (podman_service.hpp picks the engine): `stop` cancels
// the daemon's job, and the container is gone by the time stop returns.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class DaemonContainer : public EngineSuite {
  protected:
    /// Containers of this job the engine still knows, running or not.
    size_t containers_of(const std::string& ident) {
        auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
        EXPECT_TRUE(listed.ok()) << listed.error().message;
        return listed.ok() ? listed->size() : 99;
    }
};

TEST_F(DaemonContainer, StopRemovesTheContainerOfTheDaemonsJob) {
    TempDir dir;
    fs::path pdd = copy_fixture("sleeper", dir);
    const std::string ident = "t" + std::to_string(::getpid()) + "_daemon";
    std::vector<std::string> start = container_run(pdd, ident, "--process-isolation");
    start[1] = "start";
    CommandResult started = run_command(start);
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const int daemon = std::atoi(read_text(pdd / "pid").c_str());
    ASSERT_GT(daemon, 0);
    fs::path art = pdd / "artifacts" / ident;
    ASSERT_TRUE(wait_for_task_start(art, "sleep for a long time", 120s))
        << read_text(pdd / "daemon.log");
    EXPECT_EQ(containers_of(ident), 1u);

    EXPECT_EQ(run_command({ARUNNER_BINARY, "is-alive", pdd.string()}).exit_code, 0);
    CommandResult stop = run_command({ARUNNER_BINARY, "stop", pdd.string()});
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
    EXPECT_EQ(read_text(art / "status"), "canceled") << read_text(pdd / "daemon.log");
    EXPECT_EQ(read_text(art / "rc"), "254");
    std::string stat = read_text("/proc/" + std::to_string(daemon) + "/stat");
    EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
    EXPECT_FALSE(fs::exists(pdd / "pid"));
    EXPECT_EQ(run_command({ARUNNER_BINARY, "is-alive", pdd.string()}).exit_code, 1);
    EXPECT_EQ(run_command({ARUNNER_BINARY, "stop", pdd.string()}).exit_code, 1);
}

}  // namespace
}  // namespace arunner::testing
