#pragma once
// HTTP/1.1 requests to a container engine (podman, dockerd) over its unix socket, with libcurl.
// One client holds one libcurl handle, so consecutive requests reuse one connection. A client is
// not thread-safe: use it from one thread at a time (RestContainerEngine serialises its calls).
// Nothing here throws; every failure is an Error that names the request and the socket.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "util/clock.hpp"

namespace arunner::engine {

/// Connection settings shared by every request of one client.
struct HttpClientOptions {
    std::filesystem::path socket;  ///< the engine's unix socket
    /// Connecting to the socket; a missing socket or a dead listener fails at once anyway.
    std::chrono::milliseconds connect_timeout{3000};
    /// Whole request (send, wait for the answer, read it) unless the request sets its own.
    std::chrono::milliseconds request_timeout{60000};
};

/// One request. `target` is the path with its query string, e.g. "/v1.41/containers/json?all=1".
struct HttpRequest {
    HttpRequest() = default;
    /// A request without a body, with the client's default timeout.
    HttpRequest(std::string method_, std::string target_)
        : method(std::move(method_)), target(std::move(target_)) {}

    std::string method = "GET";
    std::string target;
    /// Sent as `Content-Type: application/json` when present.
    std::optional<nlohmann::ordered_json> body;
    /// Overrides HttpClientOptions::request_timeout; zero means no limit (e.g. a long wait).
    std::optional<std::chrono::milliseconds> timeout;
    /// Extra headers ("X-Registry-Auth", value). Values may be secrets: no error or log names
    /// them.
    std::vector<std::pair<std::string, std::string>> headers;
    /// When set, a 2xx answer's body is handed over chunk by chunk as it arrives instead of
    /// being collected (a long pull's progress); false stops the transfer (an Error that says
    /// the caller stopped it).
    std::function<bool(std::string_view chunk)> on_body;
    /// When set, asked at least every kKeepGoingInterval while the request runs; false stops it
    /// (an Error that says it was canceled).
    std::function<bool()> keep_going;
};

/// How often HttpRequest::keep_going is asked.
inline constexpr std::chrono::milliseconds kKeepGoingInterval{200};

/// The text of a stopped request's Error: "… canceled" (keep_going) or "… stopped" (on_body).
inline constexpr std::string_view kCanceledRequest = "canceled";

/// An engine's answer, whatever its status.
struct HttpResponse {
    long status = 0;     ///< e.g. 200, 404
    std::string reason;  ///< the status line's phrase, e.g. "Not Found"
    std::string body;
    /// The final response's headers, names as sent, values trimmed.
    std::vector<std::pair<std::string, std::string>> headers;
    /// True when an error body was longer than kMaxErrorBodyBytes: `body` holds its start.
    bool body_truncated = false;
    /// The value of header `name` (case-insensitive); empty when absent.
    std::string header(std::string_view name) const;
    /// True for 2xx.
    bool ok() const { return status >= 200 && status < 300; }
};

/// The most of an engine's error body (a non-2xx answer) that is kept; the rest is not read.
inline constexpr size_t kMaxErrorBodyBytes = size_t{1} << 20;

/// The engine's own words from an error body: the `message` field of a JSON body (podman and
/// dockerd both send `{"message": ...}`), else the body's text trimmed to one line, else empty.
std::string engine_message(std::string_view body);

/// The endpoint a target names: its path, without the query string. Error messages name it.
std::string_view endpoint_of(std::string_view target);

/// "<METHOD> <endpoint>: <status> <engine message>" (the reason phrase stands in when the body
/// says nothing), e.g. "POST /v1.41/containers/create: 404 no such image: localhost/x". A
/// truncated body is said to be.
Error http_status_error(std::string_view method, std::string_view target,
                        const HttpResponse& response);

/// Why connecting to `socket` failed with `err`, in words: no such socket, not a socket, or
/// the errno text (nothing listening: "Connection refused").
std::string connect_failure(const std::filesystem::path& socket, int err);

/// Percent-encodes every byte of `text` but RFC 3986's unreserved ones and those in
/// `also_keep`: `url_encode(v)` for a query value, `url_encode(image, "/:@")` for an image
/// reference in a path.
std::string url_encode(std::string_view text, std::string_view also_keep = "");

/// An HTTP/1.1 client bound to one unix socket. Movable, not copyable; owns its libcurl handle.
class HttpUnixClient {
  public:
    /// Prepares a client; nothing is connected until the first request. Every wait is a poll on
    /// `clock` and request timeouts are on its time. Fails only when libcurl cannot make a
    /// handle.
    static Result<HttpUnixClient> create(HttpClientOptions options,
                                         util::Clock& clock = util::steady_clock());

    ~HttpUnixClient();
    HttpUnixClient(HttpUnixClient&&) noexcept;
    HttpUnixClient& operator=(HttpUnixClient&&) noexcept;
    HttpUnixClient(const HttpUnixClient&) = delete;
    HttpUnixClient& operator=(const HttpUnixClient&) = delete;

    /// Sends `request` and returns the answer whatever its HTTP status. Fails (with the request
    /// and the socket named) when the socket is missing or refuses, the peer is not an HTTP
    /// server, closes without answering, or does not answer within the timeout.
    Result<HttpResponse> send(const HttpRequest& request);

    /// Like send(), but a non-2xx answer is an Error (http_status_error) and a 2xx answer's body
    /// is parsed as JSON (an empty body gives null).
    Result<nlohmann::ordered_json> send_json(const HttpRequest& request);

    /// The socket this client talks to.
    const std::filesystem::path& socket() const;

  private:
    struct Handle;
    explicit HttpUnixClient(std::unique_ptr<Handle> handle);
    std::unique_ptr<Handle> handle_;
};

}  // namespace arunner::engine
