#pragma once
// `podman system service` on a private socket for one test program, and a RestContainerEngine
// that talks to it. Needs root, podman and /etc/containers/containers.conf (scripts/setup-podman).

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

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

}  // namespace arunner::testing
