#pragma once
// `podman system service` on a private socket for one test program, and a RestContainerEngine
// that talks to it; PodmanSuite, the fixture of the tests that run arunner's container jobs
// through it. Needs root, podman and /etc/containers/containers.conf (scripts/setup-podman).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/rest_container_engine.hpp"
#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {

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

/// One private service per test suite, checked, with kEeImage present.
class PodmanSuite : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { service_ = new PodmanService(); }
    static void TearDownTestSuite() {
        delete service_;
        service_ = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(service_->ok()) << service_->error();
        auto image = service_->engine().image_exists(kEeImage);
        ASSERT_TRUE(image.ok()) << image.error().message;
        ASSERT_TRUE(*image) << kEeImage << " is missing: run scripts/build-ee";
    }

    /// `arunner run PDD -p site.yml --ident IDENT <mode> --container-image kEeImage
    /// --container-engine-socket <the suite's socket>` and `extra`; mode is
    /// "--process-isolation" or "--container-worker".
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
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }

    static inline PodmanService* service_ = nullptr;
};

}  // namespace arunner::testing
