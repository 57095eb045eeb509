#pragma once
// ContainerEngine over the engine's REST socket: the Docker Engine API v1.41 that podman 4.3
// and dockerd 20.10 both serve, with podman's libpod endpoints where podman needs them (waiting
// for exit, image existence, untag). Thread-safe: ordinary calls share one connection under a
// mutex; wait() and stop(), which may block for long, each use a connection of their own, and
// attach() always opens its own socket.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>

#include "engine/container_engine.hpp"
#include "engine/http_unix_client.hpp"

namespace arunner::engine {

/// How to reach the engine.
struct RestEngineOptions {
    std::filesystem::path socket;  ///< see find_engine_socket()
    EngineDialect dialect = EngineDialect::podman;
    std::chrono::milliseconds connect_timeout{3000};
    /// Any ordinary request (create, inspect, remove, image calls …).
    std::chrono::milliseconds request_timeout{120000};
    /// version() and the attach answer: short, so a socket that is no engine fails fast.
    std::chrono::milliseconds probe_timeout{5000};
    /// Request timeouts and the pauses between retries are on this clock. Not owned.
    util::Clock* clock = &util::steady_clock();
};

/// The REST implementation of ContainerEngine. Owns its connection.
class RestContainerEngine final : public ContainerEngine {
  public:
    /// Prepares the engine; nothing is connected yet (call version() to probe the socket).
    static Result<std::unique_ptr<RestContainerEngine>> create(RestEngineOptions options);

    EngineDialect dialect() const override { return options_.dialect; }
    Result<EngineVersion> version() override;
    Result<bool> ping() override;
    Result<bool> image_exists(const std::string& image) override;
    Result<ImageInfo> inspect_image(const std::string& image) override;
    Result<std::vector<ImageInfo>> list_images() override;
    Status untag_image(const std::string& reference) override;
    Result<PruneReport> prune_images() override;
    /// The Docker API's `images/create` (it reports bytes per layer); on podman, libpod's
    /// `images/pull` when TLS verification is off or only a newer image is wanted (the Docker
    /// API has neither switch). On a connection of its own, with no time limit.
    Status pull_image(const PullRequest& request, const PullObserver& observer) override;
    Result<std::string> create(const ContainerSpec& spec) override;
    Result<AttachStream> attach(const std::string& id) override;
    Status start(const std::string& id) override;
    /// On podman this is libpod's `wait?condition=exited`, never the Docker-compatible wait,
    /// which keeps podman's service busy for as long as it is held open. Also used on the docker
    /// dialect when version() found the engine to be podman.
    Result<int> wait(const std::string& id) override;
    Result<ContainerInfo> inspect(const std::string& id) override;
    Status kill(const std::string& id, int signal) override;
    Status stop(const std::string& id, int grace_seconds) override;
    Status remove(const std::string& id, bool force) override;
    Result<std::vector<ContainerSummary>> list(const std::string& label) override;

  private:
    RestContainerEngine(RestEngineOptions options, HttpUnixClient client);

    /// Sends on the shared connection.
    Result<HttpResponse> send(const HttpRequest& request);
    /// Sends on the shared connection; non-2xx is an Error, the body is parsed as JSON.
    Result<nlohmann::ordered_json> send_json(const HttpRequest& request);
    /// Sends on a connection of its own, for requests that may block for long.
    Result<HttpResponse> send_alone(const HttpRequest& request);
    bool use_libpod() const;

    RestEngineOptions options_;
    std::mutex mutex_;
    HttpUnixClient client_;  // guarded by mutex_
    std::atomic<bool> engine_is_podman_{false};
};

}  // namespace arunner::engine
