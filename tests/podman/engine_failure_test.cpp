// The engine dying mid-job (issue 13, item 4): its service is killed while a container job runs.
// The job ends with status `error` and a message that names the engine; the container, left
// running, is removed by the orphan sweep once arunner has exited. Podman only: the test kills
// a service of its own (the docker run of the container tests does not build this file).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>

#include "engine/rest_container_engine.hpp"
#include "support/command.hpp"
#include "support/file_helpers.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"
#include "util/strings.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// `podman system service` on `socket`, killable at will.
std::unique_ptr<BackgroundCommand> start_service(const fs::path& socket) {
    auto service = std::make_unique<BackgroundCommand>(std::vector<std::string>{
        "podman", "system", "service", "--time=0", "unix://" + socket.string()});
    return service;
}

class EngineFailure : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineFailure, ServiceKilledMidJobIsAnErrorNamingTheEngineAndTheSweepRemovesTheContainer) {
    const std::string mode = GetParam();
    TempDir dir;
    const fs::path socket = dir / "podman.sock";
    auto service = start_service(socket);
    auto made = engine::RestContainerEngine::create({socket, engine::EngineDialect::podman});
    ASSERT_TRUE(made.ok());
    auto& engine = **made;
    ASSERT_TRUE(wait_until([&] { return engine.ping().ok(); }, 30s)) << service->current_output();

    const std::string ident = "engine-dies-" + mode.substr(2, 9);
    auto pdd = copy_fixture("sleeper", dir);
    const fs::path art = pdd / "artifacts" / ident;
    BackgroundCommand run({ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml", "--ident", ident,
                           mode, "--container-image", kEeImage, "--container-engine-socket",
                           socket.string()});
    // Kill the service once the long task runs in the container.
    bool sleeping = wait_for_task_start(art, "sleep for a long time", 120s);
    ASSERT_TRUE(sleeping) << run.current_output();
    const std::string id(util::trim(slurp(art / "container_id")));
    ::kill(service->pid(), SIGKILL);
    service->finish();

    CommandResult r = run.finish();
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(slurp(art / "status"), "error");
    EXPECT_NE(r.err.find("the podman engine at " + socket.string() +
                         " stopped answering while the job ran"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(id.substr(0, 12)), std::string::npos) << r.err;

    // The engine comes back and the orphan sweep removes the container. Any sweep may: the
    // tests that run alongside share podman's storage, and each of their jobs sweeps at its
    // start. So either it is still there and this sweep removes it, or another already did.
    service = start_service(socket);
    ASSERT_TRUE(wait_until([&] { return engine.ping().ok(); }, 30s)) << service->current_output();
    if (engine.inspect(id).ok()) {
        CommandResult swept =
            run_command({ARUNNER_BINARY, "worker", "cleanup", "--containers"},
                        {{"CONTAINER_HOST", "unix://" + socket.string()}, {"DOCKER_HOST", ""}});
        EXPECT_EQ(swept.exit_code, 0) << swept.err;
        const bool removed_here =
            swept.out.find("Removed container ansible_runner_" + ident) != std::string::npos;
        EXPECT_TRUE(removed_here || !engine.inspect(id).ok()) << swept.out;
    }
    auto listed = engine.list("arunner.ident=" + ident);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    EXPECT_TRUE(listed->empty());
    (void)engine.remove(id, true);  // in case the sweep failed: leave nothing behind
    ::kill(service->pid(), SIGTERM);
    service->finish();
}

INSTANTIATE_TEST_SUITE_P(Modes, EngineFailure,
                         ::testing::Values("--process-isolation", "--container-worker"),
                         [](const auto& info) {
                             return info.param == "--process-isolation" ? "ProcessIsolation"
                                                                        : "ContainerWorker";
                         });

}  // namespace
}  // namespace arunner::testing
