#include "isolation/image_pull.hpp"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

namespace arunner::isolation {
namespace {

/// Every copy of `secret` in `text` replaced (an engine is not expected to echo a password,
/// but no message of ours may carry one).
std::string redact(std::string text, const std::string& secret) {
    if (secret.empty()) {
        return text;
    }
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 5)) {
        text.replace(at, secret.size(), "*****");
    }
    return text;
}

bool contains(const std::string& text, const char* what) {
    return text.find(what) != std::string::npos;
}

/// What the registry (or the way to it) answered, in a user's words, from the engine's message.
std::string pull_failure_reason(const std::string& message, bool credentials_sent,
                                const std::string& engine_name) {
    const std::string m = util::to_lower(message);
    if (contains(m, "unauthorized") || contains(m, "authentication required") ||
        contains(m, " 401") || contains(m, "denied")) {
        return credentials_sent
                   ? "the registry refused the credentials of container_auth_data (401 "
                     "unauthorized)"
                   : "the registry wants credentials (401 unauthorized): give them in "
                     "container_auth_data";
    }
    if (contains(m, "x509") || contains(m, "certificate") || contains(m, "tls:")) {
        return engine_name == "docker"
                   ? "its TLS certificate is not trusted (dockerd decides TLS verification "
                     "itself: add the registry to dockerd's insecure-registries or trust its CA)"
                   : "its TLS certificate is not trusted (verify_ssl: false in "
                     "container_auth_data skips the check)";
    }
    if (contains(m, "manifest unknown") || contains(m, "name unknown") ||
        contains(m, "not found") || contains(m, " 404")) {
        return "the registry has no such image or tag (manifest unknown)";
    }
    if (contains(m, "connection refused") || contains(m, "no such host") ||
        contains(m, "i/o timeout") || contains(m, "network is unreachable") ||
        contains(m, "dial tcp") || contains(m, "pinging container registry") ||
        contains(m, "server misbehaving")) {
        return "the registry is unreachable";
    }
    if (contains(m, "short-name") || contains(m, "short name")) {
        return "the image names no registry and the engine will not guess one (name it in "
               "full, e.g. quay.io/ORG/IMAGE)";
    }
    return "the pull failed";
}

/// True when a cancel fd is readable or the cancel check says so.
bool cancel_requested(const PullContext& context) {
    std::vector<pollfd> fds;
    for (int fd : context.cancel_fds) {
        if (fd >= 0) {
            fds.push_back({fd, POLLIN, 0});
        }
    }
    if (!fds.empty() && ::poll(fds.data(), fds.size(), 0) > 0) {
        for (const pollfd& p : fds) {
            if ((p.revents & (POLLIN | POLLHUP)) != 0) {
                return true;
            }
        }
    }
    return context.should_cancel && context.should_cancel();
}

std::string megabytes(double bytes) {
    char text[64];
    std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    return text;
}

/// Rewrites the console's progress line, at most every 100 ms (and always the last time).
class ProgressDisplay {
  public:
    ProgressDisplay(int fd, const std::string& image)
        : fd_(fd >= 0 && ::isatty(fd) == 1 ? fd : -1), progress_(image) {}
    ~ProgressDisplay() {
        if (fd_ >= 0 && shown_) {
            util::write_all(fd_, "\r\033[K");  // the job's own output starts on a clean line
        }
    }
    ProgressDisplay(const ProgressDisplay&) = delete;
    ProgressDisplay& operator=(const ProgressDisplay&) = delete;

    void update(const engine::PullLine& line) {
        if (fd_ < 0) {
            return;
        }
        progress_.update(line);
        const auto now = std::chrono::steady_clock::now();
        if (shown_ && now - last_ < std::chrono::milliseconds(100)) {
            return;
        }
        last_ = now;
        shown_ = true;
        if (!util::write_all(fd_, "\r\033[K" + progress_.line())) {
            fd_ = -1;
        }
    }

  private:
    int fd_;
    PullProgress progress_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace

std::string registry_of(const std::string& image) {
    size_t slash = image.find('/');
    if (slash == std::string::npos) {
        return "docker.io";
    }
    std::string first = image.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost") {
        return first;
    }
    return "docker.io";
}

bool auth_host_matches(const std::string& host, const std::string& registry) {
    std::string h = util::to_lower(util::trim(host));
    for (const char* scheme : {"https://", "http://"}) {
        if (h.starts_with(scheme)) {
            h.erase(0, std::string_view(scheme).size());
        }
    }
    h = h.substr(0, h.find('/'));  // "index.docker.io/v1/" -> "index.docker.io"
    auto canonical = [](const std::string& name) {
        return name == "index.docker.io" || name == "registry-1.docker.io" ||
                       name == "registry.hub.docker.com"
                   ? std::string("docker.io")
                   : name;
    };
    return !h.empty() && canonical(h) == canonical(util::to_lower(registry));
}

void PullProgress::update(const engine::PullLine& line) {
    if (line.kind != engine::PullLine::Kind::progress) {
        return;
    }
    last_status_ = line.status;
    if (line.layer.empty()) {
        return;
    }
    auto it = layers_.find(line.layer);
    if (it == layers_.end()) {
        if (layers_.size() >= kMaxLayers) {
            ++extra_layers_;
            return;
        }
        it = layers_.emplace(line.layer, Layer{}).first;
    }
    Layer& layer = it->second;
    if (line.total && *line.total > 0) {
        layer.total = *line.total;
    }
    if (line.current) {
        layer.current = std::min(*line.current, layer.total > 0 ? layer.total : *line.current);
    }
    const std::string status = util::to_lower(line.status);
    if (status == "pull complete" || status == "already exists" || status == "download complete") {
        layer.done = true;
        layer.current = layer.total;
    }
}

std::string PullProgress::line(size_t width) const {
    // Sums in double: an engine may report any int64 per layer, and the sum must not overflow.
    double current = 0;
    double total = 0;
    size_t done = 0;
    for (const auto& [id, layer] : layers_) {
        current += static_cast<double>(layer.current);
        total += static_cast<double>(layer.total);
        done += layer.done ? 1 : 0;
    }
    const size_t count = layers_.size() + extra_layers_;
    std::string text = "Pulling " + image_ + ": ";
    if (total > 0) {
        text += std::to_string(done) + "/" + std::to_string(count) + " layers, " +
                megabytes(current) + " of " + megabytes(total);
    } else if (count > 0) {
        // libpod names the blob it copies, without bytes.
        text += std::to_string(count) + (count == 1 ? " blob" : " blobs") + ", " + last_status_;
    } else {
        text += last_status_.empty() ? std::string("starting") : last_status_;
    }
    // The image and the engine's words may be anything: valid UTF-8 first, then cut at a whole
    // character (cutting first and repairing after could make the line longer again).
    text = util::valid_utf8(text);
    if (text.size() > width) {
        text.resize(util::valid_utf8_prefix(std::string_view(text).substr(0, width)));
    }
    return text;
}

Status ensure_image(engine::ContainerEngine& engine, const std::string& engine_name,
                    const std::filesystem::path& socket, const engine::ContainerSpec& spec,
                    const std::optional<ContainerAuthData>& auth, const PullContext& context) {
    using engine::PullPolicy;
    const std::string& image = spec.image;
    const std::string where = "the " + engine_name + " engine at " + socket.string();
    if (spec.pull_policy == PullPolicy::newer &&
        engine.dialect() == engine::EngineDialect::docker) {
        return Error{
            "container option --pull=newer: docker has no pull policy 'newer' (use "
            "always, missing or never)"};
    }
    if (spec.pull_policy == PullPolicy::missing || spec.pull_policy == PullPolicy::never) {
        ARUNNER_ASSIGN_OR_RETURN(auto present, engine.image_exists(image));
        if (present) {
            return {};
        }
        if (spec.pull_policy == PullPolicy::never) {
            return Error{"container image '" + image + "' is not present in " + where +
                         " and the pull policy is never (--pull=never): load it (`" + engine_name +
                         " load -i FILE`), build it (scripts/build-ee builds "
                         "localhost/arunner-ee) or allow a pull (--pull=missing)"};
        }
    }
    const std::string registry = registry_of(image);
    engine::PullRequest request;
    request.image = image;
    request.platform = spec.platform;
    request.only_if_newer = spec.pull_policy == PullPolicy::newer;
    std::string password;
    if (auth && auth_host_matches(auth->host, registry)) {
        request.auth = engine::RegistryAuth{auth->host, auth->username, auth->password};
        request.tls_verify = auth->verify_ssl;
        password = auth->password;
    }
    bool canceled = false;
    request.keep_going = [&] {
        canceled = canceled || cancel_requested(context);
        return !canceled;
    };
    Status pulled;
    {
        ProgressDisplay display(context.console_fd, image);
        pulled = engine.pull_image(request, [&](const engine::PullLine& line) {
            display.update(line);
            return request.keep_going();
        });
    }
    if (pulled.ok()) {
        return {};
    }
    if (canceled) {
        return Error{"the pull of container image '" + image + "' from " + registry +
                     " was canceled"};
    }
    const std::string message = redact(pulled.error().message, password);
    return Error{"pulling container image '" + image + "' from " + registry +
                 " failed: " + pull_failure_reason(message, request.auth.has_value(), engine_name) +
                 "; " + where + " said: " + message};
}

}  // namespace arunner::isolation
