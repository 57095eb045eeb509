#include "engine/http_unix_client.hpp"

#include "engine/curl_library.hpp"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

#include "util/strings.hpp"

namespace arunner::engine {

namespace {

/// An engine answer larger than this is refused: no engine response we read comes near it.
constexpr size_t kMaxBodyBytes = size_t{64} * 1024 * 1024;

}  // namespace

std::string_view endpoint_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (util::equals_ignoring_case(key, name)) {
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
                return std::string(util::trim(it->get_ref<const std::string&>()));
            }
        }
    }
    std::string text(util::trim(body));
    if (size_t newline = text.find('\n'); newline != std::string::npos) {
        text = std::string(util::trim(std::string_view(text).substr(0, newline)));
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

/// The libcurl handles, the fixed header lists and the per-request scratch the callbacks fill.
/// The easy handle runs in a multi handle of its own (which keeps the connection between
/// requests) so that every wait is a poll on `clock` and the request timeout is on its time.
struct HttpUnixClient::Handle {
    const CurlLibrary* lib = nullptr;
    HttpClientOptions options;
    util::Clock* clock = nullptr;
    CURL* curl = nullptr;
    CURLM* multi = nullptr;
    std::vector<pollfd> sockets;  ///< what libcurl asked to watch (CURLMOPT_SOCKETFUNCTION)
    curl_slist* json_headers = nullptr;
    curl_slist* bare_headers = nullptr;
    char error_buffer[CURL_ERROR_SIZE] = {};
    HttpResponse response;
    bool body_too_large = false;
    long head_status = 0;  ///< from the last status line, before libcurl reports it
    /// The current request's streaming receiver (HttpRequest::on_body); empty: collect.
    const std::function<bool(std::string_view)>* body_receiver = nullptr;
    bool receiver_stopped = false;  ///< the receiver returned false
    bool canceled = false;          ///< keep_going returned false

    ~Handle() {
        if (multi) {
            lib->multi_cleanup(multi);
        }
        if (curl) {
            lib->easy_cleanup(curl);
        }
        if (lib) {
            lib->slist_free_all(json_headers);
            lib->slist_free_all(bare_headers);
        }
    }

    static int on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* self_ptr,
                         void* /*socket_ptr*/) {
        auto& sockets = static_cast<Handle*>(self_ptr)->sockets;
        auto it = std::find_if(sockets.begin(), sockets.end(),
                               [fd](const pollfd& p) { return p.fd == fd; });
        if (what == CURL_POLL_REMOVE) {
            if (it != sockets.end()) {
                sockets.erase(it);
            }
            return 0;
        }
        const auto events = static_cast<short>(((what & CURL_POLL_IN) != 0 ? POLLIN : 0) |
                                               ((what & CURL_POLL_OUT) != 0 ? POLLOUT : 0));
        if (it == sockets.end()) {
            sockets.push_back({fd, events, 0});
        } else {
            it->events = events;
        }
        return 0;
    }

    /// Runs the prepared transfer to its end, waiting only through `clock`: libcurl's result,
    /// or CURLE_OPERATION_TIMEDOUT when `timeout` (zero: no limit) passes first.
    CURLcode perform(std::chrono::milliseconds timeout, const std::function<bool()>& keep_going) {
        if (keep_going && !keep_going()) {  // stopped before it started
            canceled = true;
            return CURLE_ABORTED_BY_CALLBACK;
        }
        if (CURLMcode added = lib->multi_add_handle(multi, curl); added != CURLM_OK) {
            std::snprintf(error_buffer, sizeof(error_buffer), "%s", lib->multi_strerror(added));
            return CURLE_FAILED_INIT;
        }
        const auto deadline = clock->now() + timeout;
        CURLcode result = CURLE_OK;
        int running = 0;
        CURLMcode state = lib->multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        while (state == CURLM_OK && running > 0) {
            if (keep_going && !keep_going()) {
                canceled = true;
                result = CURLE_ABORTED_BY_CALLBACK;
                break;
            }
            long wait = -1;  // libcurl's own timers (its connect timeout); -1: none
            lib->multi_timeout(multi, &wait);
            if (keep_going) {
                const long every = kKeepGoingInterval.count();
                wait = wait < 0 ? every : std::min(wait, every);
            }
            if (timeout.count() > 0) {
                const long left =
                    std::chrono::ceil<std::chrono::milliseconds>(deadline - clock->now()).count();
                if (left <= 0) {
                    result = CURLE_OPERATION_TIMEDOUT;
                    break;
                }
                wait = wait < 0 ? left : std::min(wait, left);
            }
            // A copy: libcurl changes `sockets` from inside multi_socket_action.
            std::vector<pollfd> ready = sockets;
            const int count = clock->poll(ready.data(), ready.size(),
                                          static_cast<int>(std::min<long>(wait, INT_MAX)));
            if (count < 0 && errno == EINTR) {
                continue;
            }
            if (count < 0) {
                std::snprintf(error_buffer, sizeof(error_buffer), "poll: %s", std::strerror(errno));
                result = CURLE_RECV_ERROR;
                break;
            }
            if (count == 0) {
                state = lib->multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
                continue;
            }
            for (const pollfd& p : ready) {
                if (p.revents == 0 || state != CURLM_OK) {
                    continue;
                }
                int mask = 0;
                if ((p.revents & (POLLIN | POLLHUP)) != 0) {
                    mask |= CURL_CSELECT_IN;
                }
                if ((p.revents & POLLOUT) != 0) {
                    mask |= CURL_CSELECT_OUT;
                }
                if ((p.revents & (POLLERR | POLLNVAL)) != 0) {
                    mask |= CURL_CSELECT_ERR;
                }
                state = lib->multi_socket_action(multi, p.fd, mask, &running);
            }
        }
        if (state != CURLM_OK) {
            std::snprintf(error_buffer, sizeof(error_buffer), "%s", lib->multi_strerror(state));
            result = CURLE_FAILED_INIT;
        } else if (result == CURLE_OK) {
            int left = 0;
            while (CURLMsg* message = lib->multi_info_read(multi, &left)) {
                if (message->msg == CURLMSG_DONE && message->easy_handle == curl) {
                    result = message->data.result;
                }
            }
        }
        // Unfinished (timed out), the transfer's connection is closed rather than kept.
        lib->multi_remove_handle(multi, curl);
        return result;
    }

    static size_t on_body(char* data, size_t size, size_t count, void* self_ptr) {
        auto* self = static_cast<Handle*>(self_ptr);
        size_t bytes = size * count;
        const bool error_answer = self->head_status < 200 || self->head_status >= 300;
        if (!error_answer && self->body_receiver != nullptr) {
            if (!(*self->body_receiver)(std::string_view(data, bytes))) {
                self->receiver_stopped = true;
                return 0;  // aborts the transfer
            }
            return bytes;
        }
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
            self->response.reason = reason == std::string_view::npos
                                        ? std::string()
                                        : std::string(util::trim(line.substr(reason + 1)));
            self->head_status = 0;
            if (code != std::string_view::npos && line.size() >= code + 4) {
                std::string_view digits = line.substr(code + 1, 3);
                self->head_status = util::parse_int<long>(digits).value_or(0);
            }
            self->response.body.clear();
            self->response.headers.clear();
        } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
            self->response.headers.emplace_back(std::string(line.substr(0, colon)),
                                                util::trim(line.substr(colon + 1)));
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
                       util::duration_text(limit.count());
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
            case CURLE_ABORTED_BY_CALLBACK:
                what = std::string(kCanceledRequest);
                break;
            case CURLE_WRITE_ERROR:
                what = receiver_stopped ? std::string("stopped by its reader")
                       : body_too_large ? "the answer from " + socket + " exceeds " +
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

Result<HttpUnixClient> HttpUnixClient::create(HttpClientOptions options, util::Clock& clock) {
    ARUNNER_ASSIGN_OR_RETURN(const CurlLibrary* lib, curl_library());
    auto handle = std::make_unique<Handle>();
    handle->lib = lib;
    handle->options = std::move(options);
    handle->clock = &clock;
    handle->curl = handle->lib->easy_init();
    handle->multi = handle->lib->multi_init();
    if (!handle->curl || !handle->multi) {
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
    handle->lib->multi_setopt(handle->multi, CURLMOPT_SOCKETFUNCTION, &Handle::on_socket);
    handle->lib->multi_setopt(handle->multi, CURLMOPT_SOCKETDATA, handle.get());
    return HttpUnixClient(std::move(handle));
}

Result<HttpResponse> HttpUnixClient::send(const HttpRequest& request) {
    Handle& h = *handle_;
    CURL* curl = h.curl;
    h.response = HttpResponse{};
    h.body_too_large = false;
    h.head_status = 0;
    h.error_buffer[0] = '\0';
    h.body_receiver = request.on_body ? &request.on_body : nullptr;
    h.receiver_stopped = false;
    h.canceled = false;

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
    curl_slist* headers = request.body ? h.json_headers : h.bare_headers;
    // The request's own headers go on a list of this call (libcurl copies nothing).
    curl_slist* extra = nullptr;
    for (const auto& [name, value] : request.headers) {
        if (name.find_first_of(":\r\n") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
            h.lib->slist_free_all(extra);
            return Error{request.method + " " + std::string(endpoint_of(request.target)) +
                         ": header " + name + " is not a single line"};
        }
        // NOLINTNEXTLINE(performance-inefficient-string-concatenation): one header line
        curl_slist* appended = h.lib->slist_append(extra, (name + ": " + value).c_str());
        if (appended == nullptr) {
            h.lib->slist_free_all(extra);
            return Error{"out of memory preparing a request to " + h.options.socket.string()};
        }
        extra = appended;
    }
    if (extra != nullptr) {
        for (const curl_slist* base = headers; base != nullptr; base = base->next) {
            if (curl_slist* appended = h.lib->slist_append(extra, base->data)) {
                extra = appended;
            }
        }
        headers = extra;
    }
    h.lib->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    CURLcode code =
        h.perform(request.timeout.value_or(h.options.request_timeout), request.keep_going);
    // Nothing may keep pointing at this call's locals.
    h.lib->easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
    h.lib->easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    h.lib->slist_free_all(extra);
    h.body_receiver = nullptr;
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
    ARUNNER_ASSIGN_OR_RETURN(auto response, send(request));
    if (!response.ok()) {
        return http_status_error(request.method, request.target, response);
    }
    if (util::trim(response.body).empty()) {
        return nlohmann::ordered_json();
    }
    auto parsed = nlohmann::ordered_json::parse(response.body, nullptr, false);
    if (parsed.is_discarded()) {
        return Error{request.method + " " + std::string(endpoint_of(request.target)) + ": " +
                     std::to_string(response.status) +
                     " answer is not JSON: " + engine_message(response.body)};
    }
    return parsed;
}

}  // namespace arunner::engine
