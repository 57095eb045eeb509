#include "engine/rest_container_engine.hpp"

#include <algorithm>

#include "engine/pull_progress.hpp"
#include "util/base64.hpp"
#include "util/strings.hpp"

namespace arunner::engine {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kApi = "/v1.41";
constexpr const char* kLibpod = "/v4.0.0/libpod";

// Non-throwing readers for engine answers: a field of the wrong type reads as empty.
std::string text_field(const json& object, const char* key) {
    auto it = object.is_object() ? object.find(key) : object.end();
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t int_field(const json& object, const char* key) {
    auto it = object.is_object() ? object.find(key) : object.end();
    return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool bool_field(const json& object, const char* key) {
    auto it = object.is_object() ? object.find(key) : object.end();
    return it != object.end() && it->is_boolean() && it->get<bool>();
}

const json& object_field(const json& object, const char* key) {
    static const json empty = json::object();
    auto it = object.is_object() ? object.find(key) : object.end();
    return it != object.end() && it->is_object() ? *it : empty;
}

std::vector<std::string> text_list(const json& object, const char* key) {
    std::vector<std::string> out;
    auto it = object.is_object() ? object.find(key) : object.end();
    if (it != object.end() && it->is_array()) {
        for (const auto& item : *it) {
            if (item.is_string()) {
                out.push_back(item.get<std::string>());
            }
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> labels_of(const json& labels) {
    std::vector<std::pair<std::string, std::string>> out;
    if (labels.is_object()) {
        for (const auto& [key, value] : labels.items()) {
            out.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
        }
    }
    return out;
}

std::string strip_slash(std::string name) {
    if (name.starts_with("/")) {
        name.erase(0, 1);
    }
    return name;
}

ImageInfo image_of(const json& image) {
    ImageInfo info;
    info.id = text_field(image, "Id");
    for (std::string& tag : text_list(image, "RepoTags")) {
        if (tag != "<none>:<none>") {
            info.tags.push_back(std::move(tag));
        }
    }
    info.size = int_field(image, "Size");
    return info;
}

/// The engine's message for an answer, lower-cased, for recognising a few known conditions.
std::string message_of(const HttpResponse& response) {
    return util::to_lower(engine_message(response.body));
}

std::string container_path(const std::string& id) {
    return url_encode(id);
}
std::string image_path(const std::string& image) {
    return url_encode(image, "/:@");
}

/// "linux/amd64[/variant]" in the engines' spelling (docker normalises these too).
std::string normal_platform(std::string platform) {
    platform = util::to_lower(platform);
    for (const auto& [alias, name] : {std::pair<const char*, const char*>{"/x86_64", "/amd64"},
                                      {"/x86-64", "/amd64"},
                                      {"/aarch64", "/arm64"}}) {
        if (size_t at = platform.find(alias); at != std::string::npos) {
            platform.replace(at, std::string_view(alias).size(), name);
        }
    }
    return platform;
}

/// Whether the local image (as inspected, when it could be) is of `platform`; a variant is
/// compared only when both name one. An image that cannot be inspected is left to create.
Status check_image_platform(const std::string& image, const std::string& platform,
                            const Result<json>& inspected) {
    if (!inspected.ok()) {
        return {};
    }
    std::string wanted = normal_platform(platform);
    std::string actual =
        text_field(*inspected, "Os") + "/" + text_field(*inspected, "Architecture");
    const std::string variant = text_field(*inspected, "Variant");
    const size_t variant_at = wanted.find('/', wanted.find('/') + 1);
    if (variant_at != std::string::npos) {
        if (variant.empty()) {
            wanted.erase(variant_at);  // an image without a variant: os/arch decide
        } else {
            actual += "/" + variant;
        }
    }
    if (normal_platform(actual) != wanted) {
        return Error{"image " + image + " is " + actual + ", not the --platform " + platform};
    }
    return {};
}

Error unexpected_answer(const HttpRequest& request, const std::string& what) {
    return Error{request.method + " " + request.target + ": unexpected answer: " + what};
}

}  // namespace

RestContainerEngine::RestContainerEngine(RestEngineOptions options, HttpUnixClient client)
    : options_(std::move(options)), client_(std::move(client)) {}

Result<std::unique_ptr<RestContainerEngine>> RestContainerEngine::create(
    RestEngineOptions options) {
    ARUNNER_ASSIGN_OR_RETURN(
        auto client,
        HttpUnixClient::create({options.socket, options.connect_timeout, options.request_timeout},
                               *options.clock));
    return std::unique_ptr<RestContainerEngine>(
        new RestContainerEngine(std::move(options), std::move(client)));
}

Result<HttpResponse> RestContainerEngine::send(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    return client_.send(request);
}

Result<json> RestContainerEngine::send_json(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    return client_.send_json(request);
}

Result<HttpResponse> RestContainerEngine::send_alone(const HttpRequest& request) {
    ARUNNER_ASSIGN_OR_RETURN(
        auto client, HttpUnixClient::create(
                         {options_.socket, options_.connect_timeout, options_.request_timeout}));
    return client.send(request);
}

bool RestContainerEngine::use_libpod() const {
    return options_.dialect == EngineDialect::podman || engine_is_podman_.load();
}

Result<EngineVersion> RestContainerEngine::version() {
    HttpRequest request{"GET", std::string(kApi) + "/version"};
    request.timeout = options_.probe_timeout;
    ARUNNER_ASSIGN_OR_RETURN(auto answer, send_json(request));
    EngineVersion version;
    version.version = text_field(answer, "Version");
    version.api_version = text_field(answer, "ApiVersion");
    if (version.version.empty() || version.api_version.empty()) {
        return unexpected_answer(request, "no Version/ApiVersion (is " + options_.socket.string() +
                                              " a container engine?)");
    }
    auto components = answer.find("Components");
    if (components != answer.end() && components->is_array()) {
        for (const auto& component : *components) {
            version.is_podman =
                version.is_podman || text_field(component, "Name") == "Podman Engine";
        }
    }
    engine_is_podman_ = version.is_podman;
    return version;
}

Result<bool> RestContainerEngine::ping() {
    HttpRequest request{"GET", "/_ping"};
    request.timeout = options_.probe_timeout;
    ARUNNER_ASSIGN_OR_RETURN(auto response, send(request));
    if (!response.ok()) {
        return http_status_error(request.method, request.target, response);
    }
    if (response.header("Api-Version").empty() || response.body != "OK") {
        return unexpected_answer(request, "no Api-Version header or OK (is " +
                                              options_.socket.string() + " a container engine?)");
    }
    bool podman = !response.header("Libpod-Api-Version").empty();
    engine_is_podman_ = podman;
    return podman;
}

Result<bool> RestContainerEngine::image_exists(const std::string& image) {
    HttpRequest request;
    request.target = options_.dialect == EngineDialect::podman
                         ? std::string(kLibpod) + "/images/" + image_path(image) + "/exists"
                         : std::string(kApi) + "/images/" + image_path(image) + "/json";
    ARUNNER_ASSIGN_OR_RETURN(auto response, send(request));
    if (response.status == 404) {
        return false;
    }
    if (!response.ok()) {
        return http_status_error(request.method, request.target, response);
    }
    return true;
}

Result<ImageInfo> RestContainerEngine::inspect_image(const std::string& image) {
    ARUNNER_ASSIGN_OR_RETURN(auto answer, send_json({"GET", std::string(kApi) + "/images/" +
                                                                image_path(image) + "/json"}));
    return image_of(answer);
}

Result<std::vector<ImageInfo>> RestContainerEngine::list_images() {
    ARUNNER_ASSIGN_OR_RETURN(auto answer, send_json({"GET", std::string(kApi) + "/images/json"}));
    std::vector<ImageInfo> images;
    if (answer.is_array()) {
        for (const auto& image : answer) {
            images.push_back(image_of(image));
        }
    }
    return images;
}

Status RestContainerEngine::untag_image(const std::string& reference) {
    HttpRequest request;
    if (options_.dialect == EngineDialect::podman) {
        // libpod wants the repository and the tag apart: "localhost/x:1" -> "localhost/x", "1".
        size_t slash = reference.rfind('/');
        size_t colon = reference.rfind(':');
        bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
        std::string repo = has_tag ? reference.substr(0, colon) : reference;
        std::string tag = has_tag ? reference.substr(colon + 1) : "latest";
        request = {"POST", std::string(kLibpod) + "/images/" + image_path(reference) +
                               "/untag?repo=" + url_encode(repo) + "&tag=" + url_encode(tag)};
    } else {
        // dockerd has no untag endpoint: deleting by tag removes the tag, and the image with its
        // last tag.
        request = {"DELETE", std::string(kApi) + "/images/" + image_path(reference)};
    }
    ARUNNER_TRY(send_json(request));
    return {};
}

Result<PruneReport> RestContainerEngine::prune_images() {
    ARUNNER_ASSIGN_OR_RETURN(auto answer,
                             send_json({"POST", std::string(kApi) + "/images/prune?filters=" +
                                                    url_encode(R"({"dangling":["true"]})")}));
    PruneReport report;
    auto deleted = answer.find("ImagesDeleted");
    if (deleted != answer.end() && deleted->is_array()) {
        for (const auto& item : *deleted) {
            std::string what = text_field(item, "Deleted");
            report.deleted.push_back(what.empty() ? text_field(item, "Untagged") : what);
        }
    }
    report.space_reclaimed = int_field(answer, "SpaceReclaimed");
    return report;
}

namespace {

/// An image reference split as the Docker API's images/create wants it: the name, and the tag or
/// digest ("latest" when it names neither; without a tag dockerd would pull every tag).
std::pair<std::string, std::string> name_and_tag(const std::string& image) {
    if (size_t at = image.find('@'); at != std::string::npos) {
        return {image.substr(0, at), image.substr(at + 1)};
    }
    size_t colon = image.rfind(':');
    size_t slash = image.rfind('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        return {image.substr(0, colon), image.substr(colon + 1)};
    }
    return {image, "latest"};
}

/// The X-Registry-Auth value: base64url of {"username", "password", "serveraddress"}.
std::string registry_auth_header(const RegistryAuth& auth) {
    json value = json::object();
    value["username"] = auth.username;
    value["password"] = auth.password;
    value["serveraddress"] = auth.server;
    return util::base64_encode(value.dump(-1, ' ', false, json::error_handler_t::replace), true);
}

}  // namespace

Status RestContainerEngine::pull_image(const PullRequest& pull, const PullObserver& observer) {
    HttpRequest request{"POST", ""};
    const bool podman = options_.dialect == EngineDialect::podman || engine_is_podman_.load();
    if (podman && (!pull.tls_verify || pull.only_if_newer)) {
        request.target = std::string(kLibpod) + "/images/pull?reference=" + url_encode(pull.image) +
                         "&policy=" + (pull.only_if_newer ? "newer" : "always");
        if (!pull.tls_verify) {
            request.target += "&tlsVerify=false";
        }
        if (!pull.platform.empty()) {
            // libpod takes the platform's parts: os/arch[/variant].
            const char* keys[] = {"os", "arch", "variant"};
            size_t start = 0;
            for (const char* key : keys) {
                size_t slash = pull.platform.find('/', start);
                std::string part = pull.platform.substr(start, slash - start);
                if (!part.empty()) {
                    request.target += std::string("&") + key + "=" + url_encode(part);
                }
                if (slash == std::string::npos) {
                    break;
                }
                start = slash + 1;
            }
        }
    } else {
        auto [name, tag] = name_and_tag(pull.image);
        request.target = std::string(kApi) + "/images/create?fromImage=" + url_encode(name) +
                         "&tag=" + url_encode(tag);
        if (!pull.platform.empty()) {
            request.target += "&platform=" + url_encode(pull.platform);
        }
    }
    if (pull.auth) {
        request.headers.emplace_back("X-Registry-Auth", registry_auth_header(*pull.auth));
    }
    request.timeout = std::chrono::milliseconds(0);  // a pull takes as long as it takes
    request.keep_going = pull.keep_going;
    PullLineSplitter splitter;
    std::optional<Error> failed;
    auto on_line = [&](std::string_view text) -> Status {
        ARUNNER_ASSIGN_OR_RETURN(auto line, parse_pull_line(text));
        if (line.kind == PullLine::Kind::error) {
            failed = Error{line.message};
            return Error{line.message};
        }
        if (observer && !observer(line)) {
            return Error{std::string(kCanceledRequest)};
        }
        return {};
    };
    std::optional<Error> read_error;
    request.on_body = [&](std::string_view chunk) {
        auto fed = splitter.feed(chunk, on_line);
        if (!fed) {
            read_error = fed.error();
            return false;
        }
        return true;
    };
    auto response = send_alone(request);
    if (failed) {
        return *failed;  // the engine's own words, without our request around them
    }
    if (read_error) {
        return *read_error;
    }
    if (!response) {
        return response.error();
    }
    if (!response->ok()) {
        return http_status_error(request.method, request.target, *response);
    }
    if (std::string rest = splitter.take_rest(); !rest.empty()) {
        ARUNNER_TRY(on_line(rest));
        if (failed) {
            return *failed;
        }
    }
    return {};
}

Result<std::string> RestContainerEngine::create(const ContainerSpec& spec) {
    ARUNNER_ASSIGN_OR_RETURN(auto body, make_create_body(spec));
    const std::string who = spec.name.empty() ? "container" : "container " + spec.name;
    // Fields one engine would take and then ignore, or take wrongly, are refused here
    // (docs/containers.md, "How container options are translated").
    if (options_.dialect == EngineDialect::docker) {
        // dockerd stores any --userns or --pid value and runs the container as if none was given.
        if (!spec.userns_mode.empty() && spec.userns_mode != "host" &&
            spec.userns_mode != "private") {
            return Error{who + ": --userns=" + spec.userns_mode +
                         ": docker knows only host and private (keep-id, auto, nomap and ns: are "
                         "podman's)"};
        }
        if (!spec.pid_mode.empty() && spec.pid_mode != "host" && spec.pid_mode != "private" &&
            !spec.pid_mode.starts_with("container:")) {
            return Error{who + ": --pid=" + spec.pid_mode +
                         ": docker knows only host, private and container:NAME"};
        }
    } else if (spec.memory_swap == -1) {
        // podman's compat API reads -1 as unset and limits memory+swap to twice --memory.
        return Error{who +
                     ": --memory-swap=-1 (unlimited) is not possible through podman's "
                     "Docker-compatible API; give a size"};
    } else if (spec.init && !spec.pid_mode.empty() && spec.pid_mode != "private") {
        // podman runs an init only as PID 1 (its create would say "PID namespace isn't private").
        return Error{who + ": --pid=" + spec.pid_mode +
                     ": podman cannot run the container's init (which passes a stop's signal to "
                     "the job) outside a private PID namespace; docker can"};
    }
    HttpRequest request{"POST", std::string(kApi) + "/containers/create"};
    std::string query;
    if (!spec.name.empty()) {
        query += "&name=" + url_encode(spec.name);
    }
    if (!spec.platform.empty()) {
        query += "&platform=" + url_encode(spec.platform, "/");
        if (options_.dialect == EngineDialect::podman) {
            // podman 4.3's compat create ignores `platform`; dockerd refuses an image of
            // another platform, and so does arunner on podman.
            ARUNNER_TRY(check_image_platform(
                spec.image, spec.platform,
                send_json(
                    {"GET", std::string(kApi) + "/images/" + image_path(spec.image) + "/json"})));
        }
    }
    if (!query.empty()) {
        request.target += "?" + query.substr(1);
    }
    request.body = std::move(body);
    ARUNNER_ASSIGN_OR_RETURN(auto answer, send_json(request));
    std::string id = text_field(answer, "Id");
    if (id.empty()) {
        return unexpected_answer(request, "no container Id");
    }
    return id;
}

Result<AttachStream> RestContainerEngine::attach(const std::string& id) {
    // The framing follows the container's own Tty setting, so ask the container.
    ARUNNER_ASSIGN_OR_RETURN(auto info, inspect(id));
    std::string target = std::string(kApi) + "/containers/" + container_path(id) +
                         "/attach?stream=1&stdin=1&stdout=1&stderr=1";
    return AttachStream::open(options_.socket, target, info.tty, options_.probe_timeout,
                              *options_.clock);
}

Status RestContainerEngine::start(const std::string& id) {
    HttpRequest request{"POST", std::string(kApi) + "/containers/" + container_path(id) + "/start"};
    ARUNNER_ASSIGN_OR_RETURN(auto response, send(request));
    if (!response.ok() && response.status != 304) {  // 304: already started
        return http_status_error(request.method, request.target, response);
    }
    return {};
}

Result<int> RestContainerEngine::wait(const std::string& id) {
    const bool libpod = use_libpod();
    HttpRequest request{"POST",
                        libpod ? std::string(kLibpod) + "/containers/" + container_path(id) +
                                     "/wait?condition=exited"
                               : std::string(kApi) + "/containers/" + container_path(id) + "/wait"};
    request.timeout = std::chrono::milliseconds(0);  // as long as the container runs
    ARUNNER_ASSIGN_OR_RETURN(auto response, send_alone(request));
    if (!response.ok()) {
        return http_status_error(request.method, request.target, response);
    }
    auto answer = json::parse(response.body, nullptr, false);
    if (libpod && answer.is_number_integer()) {  // libpod answers the bare exit code
        return static_cast<int>(answer.get<int64_t>());
    }
    const json& error = object_field(answer, "Error");
    if (std::string message = text_field(error, "Message"); !message.empty()) {
        return Error{request.method + " " + std::string(endpoint_of(request.target)) + ": " +
                     message};
    }
    if (!answer.is_object() || !answer.contains("StatusCode")) {
        return unexpected_answer(request, engine_message(response.body));
    }
    return static_cast<int>(int_field(answer, "StatusCode"));
}

Result<ContainerInfo> RestContainerEngine::inspect(const std::string& id) {
    ARUNNER_ASSIGN_OR_RETURN(auto answer, send_json({"GET", std::string(kApi) + "/containers/" +
                                                                container_path(id) + "/json"}));
    const json& config = object_field(answer, "Config");
    const json& state = object_field(answer, "State");
    ContainerInfo info;
    info.id = text_field(answer, "Id");
    info.name = strip_slash(text_field(answer, "Name"));
    info.image = text_field(config, "Image");
    info.status = text_field(state, "Status");
    info.running = bool_field(state, "Running");
    info.exit_code = static_cast<int>(int_field(state, "ExitCode"));
    info.oom_killed = bool_field(state, "OOMKilled");
    info.pid = int_field(state, "Pid");
    info.tty = bool_field(config, "Tty");
    info.labels = labels_of(object_field(config, "Labels"));
    return info;
}

Status RestContainerEngine::kill(const std::string& id, int signal) {
    HttpRequest request{"POST", std::string(kApi) + "/containers/" + container_path(id) +
                                    "/kill?signal=" + std::to_string(signal)};
    ARUNNER_ASSIGN_OR_RETURN(auto response, send(request));
    if (response.ok()) {
        return {};
    }
    // Not running: dockerd answers 409, podman 500 "can only kill running containers".
    std::string message = message_of(response);
    if (response.status == 409 || message.find("can only kill running") != std::string::npos ||
        message.find("not running") != std::string::npos) {
        return {};
    }
    return http_status_error(request.method, request.target, response);
}

Status RestContainerEngine::stop(const std::string& id, int grace_seconds) {
    HttpRequest request{"POST", std::string(kApi) + "/containers/" + container_path(id) +
                                    "/stop?t=" + std::to_string(std::max(0, grace_seconds))};
    request.timeout = options_.request_timeout + std::chrono::seconds(std::max(0, grace_seconds));
    ARUNNER_ASSIGN_OR_RETURN(auto response, send_alone(request));
    if (!response.ok() && response.status != 304) {  // 304: already stopped
        return http_status_error(request.method, request.target, response);
    }
    return {};
}

Status RestContainerEngine::remove(const std::string& id, bool force) {
    HttpRequest request{"DELETE", std::string(kApi) + "/containers/" + container_path(id) + "?v=1" +
                                      (force ? "&force=1" : "")};
    // A container caught while it stops on its own (its command just exited) makes podman
    // answer 500 "could not be stopped ... container state improper"; a moment later it can be
    // removed. Asked again for up to about 5 s.
    int delay_ms = 10;
    for (int attempt = 0;; ++attempt) {
        ARUNNER_ASSIGN_OR_RETURN(auto response, send(request));
        const std::string message = message_of(response);
        if (response.ok() || response.status == 404 ||
            message.find("no such container") != std::string::npos) {
            return {};  // gone, or already gone
        }
        bool stopping = message.find("state improper") != std::string::npos ||
                        message.find("could not be stopped") != std::string::npos;
        if (!stopping || attempt >= 40) {
            return http_status_error(request.method, request.target, response);
        }
        (void)options_.clock->poll(nullptr, 0, delay_ms);
        delay_ms = std::min(delay_ms * 2, 200);
    }
}

Result<std::vector<ContainerSummary>> RestContainerEngine::list(const std::string& label) {
    std::string target = std::string(kApi) + "/containers/json?all=1";
    if (!label.empty()) {
        json filters = {{"label", json::array({label})}};
        target +=
            "&filters=" + url_encode(filters.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    ARUNNER_ASSIGN_OR_RETURN(auto answer, send_json({"GET", target}));
    std::vector<ContainerSummary> containers;
    if (answer.is_array()) {
        for (const auto& item : answer) {
            ContainerSummary summary;
            summary.id = text_field(item, "Id");
            auto names = text_list(item, "Names");
            summary.name = names.empty() ? std::string() : strip_slash(names.front());
            summary.image = text_field(item, "Image");
            summary.state = text_field(item, "State");
            summary.labels = labels_of(object_field(item, "Labels"));
            containers.push_back(std::move(summary));
        }
    }
    return containers;
}

}  // namespace arunner::engine
