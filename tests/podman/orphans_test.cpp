// No orphaned containers (issue 10, item 7), against a real engine (podman_service.hpp):
// the container of a SIGKILLed arunner is swept by the next job (which then gets its name) or by
// `arunner worker cleanup --containers`; the container of a live arunner is never swept, and a
// job wanting its name gets a clear error; SIGHUP cancels like SIGTERM.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "isolation/container_sweep.hpp"
#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

using namespace std::chrono_literals;

class Orphans : public EngineSuite {
  protected:
    static std::vector<std::string> isolated(const std::filesystem::path& pdd,
                                             const std::string& ident) {
        return container_run(pdd, ident, "--process-isolation");
    }

    size_t containers_of(const std::string& ident) {
        auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
        EXPECT_TRUE(listed.ok()) << listed.error().message;
        return listed.ok() ? listed->size() : 99;
    }

    /// Waits until the job's long task runs in its container.
    void wait_sleeping(const std::filesystem::path& art, BackgroundCommand& run) {
        bool sleeping = wait_for_task_start(art, "sleep for a long time", 120s);
        ASSERT_TRUE(sleeping) << run.current_output();
    }

    /// Starts the sleeper in a container as `ident` and SIGKILLs its arunner once it sleeps:
    /// the container is left behind.
    void leave_a_container(const std::string& ident, const TempDir& dir) {
        auto pdd = copy_fixture("sleeper", dir);
        BackgroundCommand run(isolated(pdd, ident));
        wait_sleeping(pdd / "artifacts" / ident, run);
        ::kill(run.pid(), SIGKILL);
        run.finish();  // reaped: the controller's pid names nothing now
        ASSERT_EQ(containers_of(ident), 1u) << "SIGKILL should leave the container running";
    }

    CommandResult cleanup_containers(const TempDir& dir) {
        std::vector<std::string> argv = {ARUNNER_BINARY,   "worker",
                                         "cleanup",        "--containers",
                                         "--file-pattern", (dir / "no-such-dir-*").string()};
        for (std::string& option : TestEngine::executable_options()) {
            argv.push_back(std::move(option));
        }
        return run_command(argv, {service_->host_variable()});
    }
};

std::string unique_ident(const std::string& what) {
    return "t" + std::to_string(::getpid()) + "_" + what;
}

TEST_F(Orphans, SigkilledControllersContainerIsSweptByTheNextJobWithItsIdent) {
    TempDir dir;
    const std::string ident = unique_ident("killed_rerun");
    leave_a_container(ident, dir);
    // Before the sweep this failed: "name already in use".
    TempDir again;
    auto pdd = copy_fixture("hello", again);
    CommandResult r = run_command(isolated(pdd, ident));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(pdd / "artifacts" / ident / "status"), "successful");
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Orphans, SigkilledControllersContainerIsSweptByWorkerCleanup) {
    TempDir dir;
    const std::string ident = unique_ident("killed_cleanup");
    leave_a_container(ident, dir);
    CommandResult r = cleanup_containers(dir);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Removed container ansible_runner_" + ident + " ("), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("): its arunner (pid "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(changed: True)"), std::string::npos) << r.out;
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Orphans, LiveControllersContainerIsNeverSweptAndItsNameIsAClearError) {
    TempDir dir;
    const std::string ident = unique_ident("alive");
    auto pdd = copy_fixture("sleeper", dir);
    BackgroundCommand running(isolated(pdd, ident));
    wait_sleeping(pdd / "artifacts" / ident, running);
    // The labels the sweep goes by, as the engine keeps them: the job's ident, and its
    // controller, this arunner.
    auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    ASSERT_EQ(listed->size(), 1u);
    std::optional<isolation::ControllerId> controller;
    for (const auto& [key, value] : listed->front().labels) {
        if (key == isolation::kControllerLabel) {
            controller = isolation::parse_controller_label(value);
        }
    }
    ASSERT_TRUE(controller.has_value()) << "no parsable " << isolation::kControllerLabel;
    EXPECT_EQ(controller->pid, running.pid());

    CommandResult cleanup = cleanup_containers(dir);
    EXPECT_EQ(cleanup.exit_code, 0) << cleanup.out << cleanup.err;
    EXPECT_EQ(cleanup.out.find(ident), std::string::npos) << cleanup.out;
    EXPECT_EQ(containers_of(ident), 1u) << "the container of a live arunner was removed";

    TempDir second_dir;
    auto other = copy_fixture("hello", second_dir);
    CommandResult second = run_command(isolated(other, ident));
    EXPECT_NE(second.exit_code, 0);
    std::string said = second.out + second.err + read_text(other / "artifacts" / ident / "stdout");
    EXPECT_NE(said.find("already in use"), std::string::npos) << said;
    EXPECT_NE(said.find("arunner (pid " + std::to_string(running.pid()) + "), still running"),
              std::string::npos)
        << said;
    EXPECT_EQ(containers_of(ident), 1u);

    ::kill(running.pid(), SIGTERM);
    CommandResult first = running.finish();
    EXPECT_EQ(first.exit_code, 254) << first.out << first.err;
    EXPECT_EQ(read_text(pdd / "artifacts" / ident / "status"), "canceled");
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(Orphans, SighupCancelsRemovesTheContainerAndWritesTheStatus) {
    TempDir dir;
    const std::string ident = unique_ident("sighup");
    auto pdd = copy_fixture("sleeper", dir);
    auto art = pdd / "artifacts" / ident;
    // arunner keeps SIGHUP ignored when it starts with it ignored (nohup): not here.
    auto previous = ::signal(SIGHUP, SIG_DFL);
    BackgroundCommand run(isolated(pdd, ident));
    ::signal(SIGHUP, previous);
    wait_sleeping(art, run);
    ASSERT_EQ(containers_of(ident), 1u);
    ::kill(run.pid(), SIGHUP);
    CommandResult r = run.finish();
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "canceled");
    EXPECT_EQ(read_text(art / "rc"), "254");
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
}

}  // namespace
}  // namespace arunner::testing
