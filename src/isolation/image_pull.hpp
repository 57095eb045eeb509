#pragma once
// Getting a job's container image before the container is created (docs/image-pulls.md): the
// pull policy of `--pull` (missing, the engines' default; always; never; newer, podman only),
// the registry credentials of container_auth_data sent only to the registry they are for and
// only as the engine's registry-auth header, a one-line progress display when the console is a
// terminal, and an error that names the registry and says what it answered.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"
#include "engine/container_engine.hpp"
#include "engine/pull_progress.hpp"
#include "exec/supervisor.hpp"

namespace arunner::isolation {

/// What a pull may use while it runs.
struct PullContext {
    /// Progress goes here when it is a terminal (one line, rewritten); -1 or not a tty: none.
    int console_fd = -1;
    /// Each becomes readable when the job must be canceled; -1 entries are ignored.
    std::vector<int> cancel_fds;
    /// True cancels the pull.
    exec::CancelCheck should_cancel;
};

/// The registry an image reference names, as the engines read it: the first path component
/// when it has a '.' or ':' or is "localhost", else "docker.io".
std::string registry_of(const std::string& image);

/// Whether container_auth_data's `host` ("quay.io", "https://index.docker.io/v1/",
/// "127.0.0.1:5000/") names `registry` (as registry_of() gives it).
bool auth_host_matches(const std::string& host, const std::string& registry);

/// Makes `spec.image` present in `engine` by `spec.pull_policy`, pulling it with `auth` when
/// that is for the image's registry. `engine_name` ("podman") and `socket` are for messages.
/// Every failure is an Error naming the image, the registry and what went wrong; none contains
/// the password.
Status ensure_image(engine::ContainerEngine& engine, const std::string& engine_name,
                    const std::filesystem::path& socket, const engine::ContainerSpec& spec,
                    const std::optional<ContainerAuthData>& auth, const PullContext& context);

/// The progress of one pull as one line of text: layers seen, bytes done of the total where the
/// engine reports bytes (the Docker API), else the blob being copied (libpod). Holds at most
/// kMaxLayers layers; later ones are counted, not listed.
class PullProgress {
  public:
    static constexpr size_t kMaxLayers = 512;

    explicit PullProgress(std::string image) : image_(std::move(image)) {}
    /// Takes one step the engine reported.
    void update(const engine::PullLine& line);
    /// "Pulling IMAGE: 3 layers, 12.0 MB of 40.5 MB" (no newline), at most `width` characters.
    std::string line(size_t width = 100) const;

  private:
    struct Layer {
        int64_t current = 0;
        int64_t total = 0;
        bool done = false;
    };
    std::string image_;
    std::map<std::string, Layer> layers_;
    size_t extra_layers_ = 0;
    std::string last_status_;
};

}  // namespace arunner::isolation
