#pragma once
// The container engine the tests of tests/podman/ run against, chosen at run time: podman
// (ctest's podman.* tests: PodmanService, a private `podman system service` per test program) or
// Debian's dockerd (ctest's docker.* tests: the same program with ARUNNER_TEST_ENGINE=docker in
// its environment, against one dockerd per ctest run, started by the `dockerd` ctest fixture,
// tests/support/dockerd-fixture, on ARUNNER_DOCKER_SOCKET). TestEngine is that engine;
// EngineSuite the fixture of the tests that run arunner's container jobs through it. See
// docs/engines-tests.md. Needs root, podman and /etc/containers/containers.conf
// (scripts/setup-podman); docker.io for the docker run.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/rest_container_engine.hpp"
#include "support/command.hpp"
#include "support/temp_dir.hpp"

#ifndef ARUNNER_DOCKER_SOCKET
#define ARUNNER_DOCKER_SOCKET ""
#endif

namespace arunner::testing {

/// `podman system service` on a private socket for one test program, and a RestContainerEngine
/// that talks to it.
class PodmanService {
  public:
    /// Starts the service; ok() tells whether it answers, error() why not.
    PodmanService() : socket_(dir_ / "podman.sock") {
        if (!std::filesystem::exists("/etc/containers/containers.conf")) {
            error_ =
                "write /etc/containers/containers.conf as MACHINE.md says (scripts/setup-podman)";
            return;
        }
        service_ = std::make_unique<BackgroundCommand>(std::vector<std::string>{
            "podman", "system", "service", "--time=0", "unix://" + socket_.string()});
        auto made = engine::RestContainerEngine::create({socket_, engine::EngineDialect::podman});
        if (!made.ok()) {
            error_ = made.error().message;
            return;
        }
        engine_ = std::move(made.value());
        using namespace std::chrono_literals;
        if (!wait_until([&] { return engine_->ping().ok(); }, 15000ms)) {
            error_ = "podman system service did not come up: " + service_->current_output();
        }
    }
    ~PodmanService() {
        engine_.reset();
        if (service_ && service_->pid() > 0) {
            ::kill(service_->pid(), SIGTERM);
            service_->finish();
        }
    }
    PodmanService(const PodmanService&) = delete;
    PodmanService& operator=(const PodmanService&) = delete;

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    const std::filesystem::path& socket() const { return socket_; }
    pid_t pid() const { return service_ ? service_->pid() : 0; }
    engine::RestContainerEngine& engine() { return *engine_; }

  private:
    TempDir dir_;
    std::filesystem::path socket_;
    std::unique_ptr<BackgroundCommand> service_;
    std::unique_ptr<engine::RestContainerEngine> engine_;
    std::string error_;
};

/// The EE image the container tests run (scripts/build-ee builds it).
inline constexpr const char* kEeImage = "localhost/arunner-ee";

/// "podman" or "docker": the engine these tests were compiled for.
/// True when the environment says ARUNNER_TEST_ENGINE=docker (ctest's docker.* registration of
/// the same test program sets it).
inline bool on_docker() {
    static const bool docker = [] {
        const char* engine = std::getenv("ARUNNER_TEST_ENGINE");
        return engine != nullptr && std::string_view(engine) == "docker";
    }();
    return docker;
}
/// Debian's docker.io client (another `docker` may come first on PATH).
inline constexpr const char* kDockerCli = "/usr/bin/docker";

/// The engine under test: its socket, a RestContainerEngine speaking its dialect, its CLI.
class TestEngine {
  public:
    /// Podman: starts the private service. Docker: connects to the fixture's dockerd.
    TestEngine() {
        if (on_docker()) {
            socket_ = ARUNNER_DOCKER_SOCKET;
            std::error_code ec;
            if (!std::filesystem::exists(socket_, ec)) {
                error_ = "no dockerd at " + socket_.string() +
                         ": the docker tests need the `dockerd` ctest fixture; run them through "
                         "ctest (`ctest --test-dir build -R '^docker\\.'` starts it and stops it)";
                return;
            }
            auto made =
                engine::RestContainerEngine::create({socket_, engine::EngineDialect::docker});
            if (!made.ok()) {
                error_ = made.error().message;
                return;
            }
            engine_ = std::move(made.value());
            if (auto ping = engine_->ping(); !ping.ok()) {
                error_ = "the dockerd fixture at " + socket_.string() +
                         " does not answer: " + ping.error().message;
            }
        } else {
            podman_ = std::make_unique<PodmanService>();
            socket_ = podman_->socket();
            error_ = podman_->error();
        }
    }
    TestEngine(const TestEngine&) = delete;
    TestEngine& operator=(const TestEngine&) = delete;

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    const std::filesystem::path& socket() const { return socket_; }
    engine::RestContainerEngine& engine() { return podman_ ? podman_->engine() : *engine_; }
    static engine::EngineDialect dialect() {
        return on_docker() ? engine::EngineDialect::docker : engine::EngineDialect::podman;
    }
    static const char* name() { return on_docker() ? "docker" : "podman"; }

    /// The engine's command line for this engine's storage, as one shell word list.
    std::string cli() const {
        return on_docker() ? std::string(kDockerCli) + " -H unix://" + socket_.string() : "podman";
    }
    /// The variable that names this socket to arunner when no --container-engine-socket is given
    /// (DOCKER_HOST is what the docker dialect reads first).
    std::pair<std::string, std::string> host_variable() const {
        return {on_docker() ? "DOCKER_HOST" : "CONTAINER_HOST", "unix://" + socket_.string()};
    }
    /// The pid of the engine's service: the private podman service, or the fixture's dockerd.
    pid_t service_pid() const {
        if (podman_) {
            return podman_->pid();
        }
        auto text = read_text(socket_.parent_path() / "dockerd.pid");
        return static_cast<pid_t>(std::atoi(text.c_str()));
    }
    /// The arunner options that choose this engine (podman is arunner's default).
    static std::vector<std::string> executable_options() {
        if (on_docker()) {
            return {"--process-isolation-executable", "docker"};
        }
        return {};
    }

  private:
    std::unique_ptr<PodmanService> podman_;
    std::filesystem::path socket_;
    std::unique_ptr<engine::RestContainerEngine> engine_;
    std::string error_;
};

/// The engine once per test suite, checked, with kEeImage present.
class EngineSuite : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { service_ = new TestEngine(); }
    static void TearDownTestSuite() {
        delete service_;
        service_ = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(service_->ok()) << service_->error();
        auto image = service_->engine().image_exists(kEeImage);
        ASSERT_TRUE(image.ok()) << image.error().message;
        ASSERT_TRUE(*image) << kEeImage << " is missing from " << TestEngine::name()
                            << (on_docker() ? ": the dockerd fixture loads it from podman; run "
                                              "scripts/build-ee, then the tests through ctest"
                                            : ": run scripts/build-ee");
    }

    /// `arunner run PDD -p site.yml --ident IDENT <mode> --container-image kEeImage
    /// --container-engine-socket <the suite's socket>`, the options choosing the engine under
    /// test, and `extra`; mode is "--process-isolation" or "--container-worker". (The image is
    /// argv[9] and the socket argv[11].)
    static std::vector<std::string> container_run(const std::filesystem::path& pdd,
                                                  const std::string& ident, const std::string& mode,
                                                  const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv = {ARUNNER_BINARY,
                                         "run",
                                         pdd.string(),
                                         "-p",
                                         "site.yml",
                                         "--ident",
                                         ident,
                                         mode,
                                         "--container-image",
                                         kEeImage,
                                         "--container-engine-socket",
                                         service_->socket().string()};
        for (std::string& option : TestEngine::executable_options()) {
            argv.push_back(std::move(option));
        }
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }

    static inline TestEngine* service_ = nullptr;
};

/// The podman tests' name for EngineSuite (podman-only tests use it; on podman they are the same).
using PodmanSuite = EngineSuite;

}  // namespace arunner::testing
