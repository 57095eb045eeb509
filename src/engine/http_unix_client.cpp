#include "engine/http_unix_client.hpp"

#include "engine/curl_library.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <curl/curl.h>
#include <errno.h>
#include <sys/stat.h>

#include <cstring>
#include <mutex>

namespace arunner::engine {

namespace {

/// An engine answer larger than this is refused: no engine response we read comes near it.
constexpr size_t kMaxBodyBytes = size_t{64} * 1024 * 1024;

std::string trim(std::string_view text) {
    size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) {
        return {};
    }
    size_t end = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(begin, end - begin + 1));
}

std::string seconds_text(std::chrono::milliseconds duration) {
    auto ms = duration.count();
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + " s";
    }
    return std::to_string(ms) + " ms";
}

}  // namespace

std::string_view endpoint_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

std::string HttpResponse::header(std::string_view name) const {
    auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() &&
            std::equal(key.begin(), key.end(), name.begin(),
                       [&](char a, char b) { return lower(a) == lower(b); })) {
            return value;
        }
    }
    return {};
}

std::string engine_message(std::string_view body) {
    auto parsed = nlohmann::ordered_json::parse(body, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object()) {
        for (const char* key : {"message", "Message"}) {
            auto it = parsed.find(key);
            if (it != parsed.end() && it->is_string()) {
                return trim(it->get<std::string>());
            }
        }
    }
    std::string text = trim(body);
    if (size_t newline = text.find('\n'); newline != std::string::npos) {
        text = trim(text.substr(0, newline));
    }
    if (text.size() > 300) {
        text = text.substr(0, 300) + "...";
    }
    return text;
}

Error http_status_error(std::string_view method, std::string_view target,
                        const HttpResponse& response) {
    std::string message = engine_message(response.body);
    if (message.empty()) {
        message = response.reason;
    }
    std::string text = std::string(method) + " " + std::string(endpoint_of(target)) + ": " +
                       std::to_string(response.status);
    if (!message.empty()) {
        text += " " + message;
    }
    if (response.body_truncated) {
        text += " (the engine's error body was cut at " + std::to_string(kMaxErrorBodyBytes >> 20) +
                " MiB)";
    }
    return Error{text};
}

std::string connect_failure(const std::filesystem::path& socket, int err) {
    struct stat st {};
    if (::stat(socket.c_str(), &st) != 0) {
        return "no container engine socket at " + socket.string() + " (" + std::strerror(errno) +
               ")";
    }
    if (!S_ISSOCK(st.st_mode)) {
        return socket.string() + " is not a socket, so not a container engine";
    }
    return "cannot connect to the container engine socket " + socket.string() + ": " +
           (err != 0 ? std::strerror(err) : "connection failed");
}

std::string url_encode(std::string_view text, std::string_view also_keep) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved || also_keep.find(static_cast<char>(c)) != std::string_view::npos) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        }
    }
    return out;
}

/// The libcurl handle, its fixed header lists and the per-request scratch the callbacks fill.
struct HttpUnixClient::Handle {
    const CurlLibrary* lib = nullptr;
    HttpClientOptions options;
    CURL* curl = nullptr;
    curl_slist* json_headers = nullptr;
    curl_slist* bare_headers = nullptr;
    char error_buffer[CURL_ERROR_SIZE] = {};
    HttpResponse response;
    bool body_too_large = false;
    long head_status = 0;  ///< from the last status line, before libcurl reports it

    ~Handle() {
        if (curl) {
            lib->easy_cleanup(curl);
        }
        if (lib) {
            lib->slist_free_all(json_headers);
            lib->slist_free_all(bare_headers);
        }
    }

    static size_t on_body(char* data, size_t size, size_t count, void* self_ptr) {
        auto* self = static_cast<Handle*>(self_ptr);
        size_t bytes = size * count;
        const bool error_answer = self->head_status < 200 || self->head_status >= 300;
        if (error_answer && self->response.body.size() + bytes > kMaxErrorBodyBytes) {
            // Only the start of an error body is worth showing: keep it and stop reading.
            self->response.body.append(data, kMaxErrorBodyBytes - self->response.body.size());
            self->response.body_truncated = true;
            return 0;  // aborts the transfer
        }
        if (self->response.body.size() + bytes > kMaxBodyBytes) {
            self->body_too_large = true;
            return 0;  // aborts the transfer
        }
        self->response.body.append(data, bytes);
        return bytes;
    }

    // Keeps the reason phrase of the last status line (a 100 Continue may come first).
    static size_t on_header(char* data, size_t size, size_t count, void* self_ptr) {
        auto* self = static_cast<Handle*>(self_ptr);
        size_t bytes = size * count;
        std::string_view line(data, bytes);
        if (line.starts_with("HTTP/")) {
            size_t code = line.find(' ');
            size_t reason = code == std::string_view::npos ? code : line.find(' ', code + 1);
            self->response.reason =
                reason == std::string_view::npos ? std::string() : trim(line.substr(reason + 1));
            self->head_status = 0;
            if (code != std::string_view::npos && line.size() >= code + 4) {
                std::string_view digits = line.substr(code + 1, 3);
                (void)std::from_chars(digits.data(), digits.data() + 3, self->head_status);
            }
            self->response.body.clear();
            self->response.headers.clear();
        } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
            self->response.headers.emplace_back(std::string(line.substr(0, colon)),
                                                trim(line.substr(colon + 1)));
        }
        return bytes;
    }

    Error transport_error(const HttpRequest& request, CURLcode code) const {
        const std::string socket = options.socket.string();
        std::string detail = error_buffer[0] ? error_buffer : lib->easy_strerror(code);
        long os_errno = 0;
        lib->easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
        std::string what;
        switch (code) {
            case CURLE_COULDNT_CONNECT:
                what = connect_failure(options.socket, static_cast<int>(os_errno));
                break;
            case CURLE_OPERATION_TIMEDOUT: {
                auto limit = request.timeout.value_or(options.request_timeout);
                what = "no answer from the container engine socket " + socket + " within " +
                       seconds_text(limit);
                break;
            }
            case CURLE_RECV_ERROR:
            case CURLE_SEND_ERROR:
                if (os_errno != ECONNRESET && os_errno != EPIPE) {
                    what = socket + " did not answer as an HTTP container engine: " + detail;
                    break;
                }
                [[fallthrough]];  // hung up before answering
            case CURLE_GOT_NOTHING:
                what = socket + " closed the connection without an HTTP answer" +
                       " (is it a container engine?)";
                break;
            case CURLE_PARTIAL_FILE:
                what = "the answer from " + socket + " was cut short: " + detail;
                break;
            case CURLE_WEIRD_SERVER_REPLY:
            case CURLE_UNSUPPORTED_PROTOCOL:
                what = socket + " did not answer as an HTTP container engine: " + detail;
                break;
            case CURLE_WRITE_ERROR:
                what = body_too_large ? "the answer from " + socket + " exceeds " +
                                            std::to_string(kMaxBodyBytes >> 20) + " MiB"
                                      : "request to " + socket + " failed: " + detail;
                break;
            default:
                what = "request to the container engine socket " + socket + " failed: " + detail;
        }
        return Error{request.method + " " + std::string(endpoint_of(request.target)) + ": " + what};
    }
};

HttpUnixClient::HttpUnixClient(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
HttpUnixClient::~HttpUnixClient() = default;
HttpUnixClient::HttpUnixClient(HttpUnixClient&&) noexcept = default;
HttpUnixClient& HttpUnixClient::operator=(HttpUnixClient&&) noexcept = default;

const std::filesystem::path& HttpUnixClient::socket() const {
    return handle_->options.socket;
}

Result<HttpUnixClient> HttpUnixClient::create(HttpClientOptions options) {
    auto lib = curl_library();
    if (!lib) {
        return lib.error();
    }
    auto handle = std::make_unique<Handle>();
    handle->lib = *lib;
    handle->options = std::move(options);
    handle->curl = handle->lib->easy_init();
    if (!handle->curl) {
        return Error{"cannot create a libcurl handle for " + handle->options.socket.string()};
    }
    // "Expect:" stops libcurl from waiting for a 100 Continue before sending larger bodies.
    handle->json_headers = handle->lib->slist_append(nullptr, "Content-Type: application/json");
    handle->json_headers = handle->lib->slist_append(handle->json_headers, "Expect:");
    handle->bare_headers = handle->lib->slist_append(nullptr, "Content-Type:");
    handle->bare_headers = handle->lib->slist_append(handle->bare_headers, "Expect:");
    if (!handle->json_headers || !handle->bare_headers) {
        return Error{"out of memory preparing requests to " + handle->options.socket.string()};
    }
    CURL* curl = handle->curl;
    handle->lib->easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, handle->options.socket.c_str());
    handle->lib->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    handle->lib->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                             static_cast<long>(handle->options.connect_timeout.count()));
    handle->lib->easy_setopt(curl, CURLOPT_ERRORBUFFER, handle->error_buffer);
    handle->lib->easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Handle::on_body);
    handle->lib->easy_setopt(curl, CURLOPT_WRITEDATA, handle.get());
    handle->lib->easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Handle::on_header);
    handle->lib->easy_setopt(curl, CURLOPT_HEADERDATA, handle.get());
    handle->lib->easy_setopt(curl, CURLOPT_USERAGENT, "arunner");
    return HttpUnixClient(std::move(handle));
}

Result<HttpResponse> HttpUnixClient::send(const HttpRequest& request) {
    Handle& h = *handle_;
    CURL* curl = h.curl;
    h.response = HttpResponse{};
    h.body_too_large = false;
    h.head_status = 0;
    h.error_buffer[0] = '\0';

    // The host part is ignored over a unix socket; only the target reaches the engine.
    std::string url = "http://localhost" + request.target;
    h.lib->easy_setopt(curl, CURLOPT_URL, url.c_str());
    // Replacing invalid UTF-8 keeps dump() from throwing on odd bytes in, say, an env value.
    std::string payload =
        request.body
            ? request.body->dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
            : std::string();
    if (request.method == "GET" && !request.body) {
        h.lib->easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        h.lib->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
    } else {
        h.lib->easy_setopt(curl, CURLOPT_POST, 1L);
        h.lib->easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
        h.lib->easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                           static_cast<curl_off_t>(payload.size()));
        h.lib->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    h.lib->easy_setopt(curl, CURLOPT_HTTPHEADER, request.body ? h.json_headers : h.bare_headers);
    auto timeout = request.timeout.value_or(h.options.request_timeout);
    h.lib->easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));

    CURLcode code = h.lib->easy_perform(curl);
    // Nothing may keep pointing at this call's locals.
    h.lib->easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
    if (code == CURLE_WRITE_ERROR && h.response.body_truncated) {
        h.response.status = h.head_status;  // an error answer, cut: the caller reports it
        return std::move(h.response);
    }
    if (code != CURLE_OK) {
        return h.transport_error(request, code);
    }
    h.lib->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &h.response.status);
    return std::move(h.response);
}

Result<nlohmann::ordered_json> HttpUnixClient::send_json(const HttpRequest& request) {
    auto response = send(request);
    if (!response.ok()) {
        return response.error();
    }
    if (!response->ok()) {
        return http_status_error(request.method, request.target, *response);
    }
    if (trim(response->body).empty()) {
        return nlohmann::ordered_json();
    }
    auto parsed = nlohmann::ordered_json::parse(response->body, nullptr, false);
    if (parsed.is_discarded()) {
        return Error{request.method + " " + std::string(endpoint_of(request.target)) + ": " +
                     std::to_string(response->status) +
                     " answer is not JSON: " + engine_message(response->body)};
    }
    return parsed;
}

}  // namespace arunner::engine
