// The attach request is hand-written HTTP/1.1 on a socket of our own rather than libcurl: after
// the 101 answer the connection stops being HTTP and becomes the caller's to poll, read, write
// and half-close. libcurl's CONNECT_ONLY mode cannot send a request and then hand over the
// upgraded socket with the bytes it already read past the headers, so the small amount of HTTP
// needed here (one request, one status line and its headers, an error body) is done by hand.

#include "engine/attach_stream.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "engine/http_unix_client.hpp"
#include "util/strings.hpp"

namespace arunner::engine {

namespace {

constexpr size_t kMaxHeaderBytes = size_t{64} * 1024;
constexpr size_t kMaxErrorFrameBytes = 4096;

/// Waits for `events` on `fd` until `deadline` on `clock`; false on timeout.
bool wait_for(util::Clock& clock, int fd, short events, util::Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock.now());
        pollfd p{fd, events, 0};
        int n = clock.poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
        if (n > 0) {
            return true;
        }
        if (n == 0 || errno != EINTR) {
            return false;
        }
    }
}

/// A decimal Content-Length; empty when it is not one (then the body is read to its cap).
std::optional<size_t> parse_length(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return util::parse_int<size_t>(text);
}

/// The parts of an HTTP answer's head that the attach needs.
struct ResponseHead {
    long status = 0;
    std::string reason;
    std::optional<size_t> content_length;
    bool chunked = false;
};

bool parse_head(std::string_view head, ResponseHead& out) {
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
        return false;
    }
    std::string_view code = status_line.substr(9, 3);
    if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    out.reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : "";
    size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        std::string_view line = head.substr(pos, end == std::string_view::npos ? end : end - pos);
        pos = end == std::string_view::npos ? head.size() : end + 2;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string name = util::to_lower(line.substr(0, colon));
        std::string value(line.substr(colon + 1));
        value.erase(0, value.find_first_not_of(" \t"));
        if (name == "content-length") {
            out.content_length = parse_length(value);
        } else if (name == "transfer-encoding") {
            out.chunked = util::to_lower(value).find("chunked") != std::string::npos;
        }
    }
    return true;
}

/// Decodes a chunked body as far as it goes (an error body is small and only shown to users).
/// Every size the engine sends is checked against the bytes that arrived: a malformed size or one
/// near 2^64 ends the decoding rather than wrapping the position round to an earlier chunk.
std::string dechunk(std::string_view raw) {
    std::string out;
    size_t pos = 0;
    for (;;) {
        size_t line_end = raw.find("\r\n", pos);
        if (line_end == std::string_view::npos) {
            break;
        }
        std::string_view size_text = raw.substr(pos, line_end - pos);
        size_text = size_text.substr(0, size_text.find(';'));  // chunk extensions
        while (!size_text.empty() && (size_text.back() == ' ' || size_text.back() == '\t')) {
            size_text.remove_suffix(1);
        }
        const std::optional<size_t> parsed = util::parse_int<size_t>(size_text, 16);
        if (!parsed || *parsed == 0) {
            break;
        }
        const size_t size = *parsed;
        const size_t data = line_end + 2;
        if (size > raw.size() - data) {
            out.append(raw.substr(data));  // cut short: keep what came
            break;
        }
        out.append(raw.substr(data, size));
        pos = data + size;
        if (raw.size() - pos < 2) {
            break;
        }
        pos += 2;
    }
    return out;
}

/// Writes all of `bytes` (no SIGPIPE); 0 or the errno of the failure.
int send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return 0;
}

}  // namespace

Status StreamDemux::feed(std::string_view bytes, const OutputChunkSink& sink) {
    if (tty_) {
        if (!bytes.empty()) {
            sink(OutputStream::out, bytes);
        }
        return {};
    }
    while (!bytes.empty()) {
        if (payload_left_ == 0) {
            size_t take = std::min(sizeof(header_) - header_filled_, bytes.size());
            std::memcpy(header_ + header_filled_, bytes.data(), take);
            header_filled_ += take;
            bytes.remove_prefix(take);
            if (header_filled_ < sizeof(header_)) {
                break;
            }
            header_filled_ = 0;
            payload_left_ = (uint32_t{header_[4]} << 24) | (uint32_t{header_[5]} << 16) |
                            (uint32_t{header_[6]} << 8) | uint32_t{header_[7]};
            in_error_frame_ = false;
            switch (header_[0]) {
                case 0:  // stdin echoed back: shown as output, as the docker client does
                case 1:
                    current_ = OutputStream::out;
                    break;
                case 2:
                    current_ = OutputStream::err;
                    break;
                case 3:
                    in_error_frame_ = true;
                    error_text_.clear();
                    break;
                default:
                    return Error{"attach stream: frame for unknown stream " +
                                 std::to_string(header_[0]) + " (is the container's Tty right?)"};
            }
            if (in_error_frame_ && payload_left_ == 0) {
                return Error{"attach stream: the container engine reported an error"};
            }
            continue;
        }
        size_t take = std::min<size_t>(payload_left_, bytes.size());
        if (in_error_frame_) {
            // Kept up to a cap in total, however the frame arrives; a longer one is reported
            // as soon as the cap is reached instead of being read to its (up to 4 GiB) end.
            size_t room = kMaxErrorFrameBytes - std::min(kMaxErrorFrameBytes, error_text_.size());
            error_text_.append(bytes.substr(0, std::min(take, room)));
            if (error_text_.size() >= kMaxErrorFrameBytes && payload_left_ > take) {
                return Error{"attach stream: the container engine reported: " + error_text_ +
                             " [cut at " + std::to_string(kMaxErrorFrameBytes) + " bytes]"};
            }
        } else {
            sink(current_, bytes.substr(0, take));
        }
        payload_left_ -= static_cast<uint32_t>(take);
        bytes.remove_prefix(take);
        if (in_error_frame_ && payload_left_ == 0) {
            return Error{"attach stream: the container engine reported: " + error_text_};
        }
    }
    return {};
}

Status StreamDemux::finish() const {
    if (tty_) {
        return {};
    }
    if (header_filled_ > 0) {
        return Error{"attach stream ended inside a frame header (" +
                     std::to_string(header_filled_) + " of 8 bytes)"};
    }
    if (payload_left_ > 0) {
        return Error{"attach stream ended " + std::to_string(payload_left_) +
                     " bytes before the end of a frame"};
    }
    return {};
}

std::string encode_stream_frame(OutputStream stream, std::string_view payload) {
    auto size = static_cast<uint32_t>(payload.size());
    std::string frame;
    frame.reserve(8 + payload.size());
    frame.push_back(stream == OutputStream::out ? '\1' : '\2');
    frame.append(3, '\0');
    frame.push_back(static_cast<char>(size >> 24));
    frame.push_back(static_cast<char>((size >> 16) & 0xFF));
    frame.push_back(static_cast<char>((size >> 8) & 0xFF));
    frame.push_back(static_cast<char>(size & 0xFF));
    frame.append(payload);
    return frame;
}

AttachStream::AttachStream(util::UniqueFd fd, std::string pending, bool tty)
    : fd_(std::move(fd)), pending_(std::move(pending)), tty_(tty) {}

Result<AttachStream> AttachStream::open(const std::filesystem::path& socket,
                                        const std::string& target, bool tty,
                                        std::chrono::milliseconds timeout, util::Clock& clock) {
    const std::string prefix = "POST " + std::string(endpoint_of(target)) + ": ";
    const std::string where = socket.string();
    const auto deadline = clock.now() + timeout;

    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (where.size() >= sizeof(address.sun_path)) {
        return Error{prefix + "socket path too long (" + std::to_string(where.size()) +
                     " bytes, at most " + std::to_string(sizeof(address.sun_path) - 1) +
                     "): " + where};
    }
    std::memcpy(address.sun_path, where.c_str(), where.size() + 1);
    util::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return Error{prefix + "socket(): " + std::strerror(errno)};
    }
    int rc;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        return Error{prefix + connect_failure(socket, errno)};
    }

    const std::string request = "POST " + target +
                                " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: arunner\r\n"
                                "Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    const Error hung_up{prefix + where +
                        " closed the connection without an HTTP answer (is it a container "
                        "engine?)"};
    AttachStream stream(std::move(fd), {}, tty);
    if (int err = send_all(stream.fd(), request); err != 0) {
        if (err == EPIPE || err == ECONNRESET) {
            return hung_up;
        }
        return Error{prefix + "sending the request to " + where + ": " + std::strerror(err)};
    }

    // Read up to the end of the headers; whatever follows them is already stream output.
    std::string received;
    size_t head_end = std::string::npos;
    char buffer[16 * 1024];
    while (head_end == std::string::npos) {
        if (!wait_for(clock, stream.fd(), POLLIN, deadline)) {
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error, built once
            return Error{prefix + "no answer from the container engine socket " + where +
                         " within " + util::duration_text(timeout.count())};
        }
        ssize_t n = ::recv(stream.fd(), buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            if (received.empty()) {
                return hung_up;
            }
            break;  // judge what did arrive
        }
        if (n < 0) {
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error, built once
            return Error{prefix + "reading the answer from " + where + ": " + std::strerror(errno)};
        }
        received.append(buffer, static_cast<size_t>(n));
        head_end = received.find("\r\n\r\n");
        bool not_http = received.size() >= 5 && !received.starts_with("HTTP/");
        if (not_http || (head_end == std::string::npos && received.size() > kMaxHeaderBytes)) {
            break;  // no need to wait for the rest of a non-HTTP greeting
        }
    }
    ResponseHead head;
    if (head_end == std::string::npos ||
        !parse_head(std::string_view(received).substr(0, head_end), head)) {
        std::string first_line = received.substr(0, std::min(received.find("\r\n"), size_t{80}));
        return Error{prefix + where + " did not answer as an HTTP container engine: \"" +
                     first_line + "\""};
    }
    std::string rest = received.substr(head_end + 4);
    if (head.status == 101 || head.status == 200) {
        stream.pending_ = std::move(rest);
        return stream;
    }

    // An error: collect its (small) body for the message, within the same deadline.
    while ((!head.content_length || rest.size() < *head.content_length) &&
           !(head.chunked && rest.find("0\r\n\r\n") != std::string::npos) &&
           rest.size() <= kMaxErrorBodyBytes && wait_for(clock, stream.fd(), POLLIN, deadline)) {
        ssize_t n = ::recv(stream.fd(), buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        rest.append(buffer, static_cast<size_t>(n));
    }
    HttpResponse response;
    response.status = head.status;
    response.reason = head.reason;
    if (rest.size() > kMaxErrorBodyBytes) {
        rest.resize(kMaxErrorBodyBytes);
        response.body_truncated = true;
    }
    if (head.content_length && rest.size() > *head.content_length) {
        rest.resize(*head.content_length);
    }
    response.body = head.chunked ? dechunk(rest) : std::move(rest);
    return http_status_error("POST", target, response);
}

Result<size_t> AttachStream::read(std::span<char> buffer) {
    if (has_pending()) {
        size_t take = std::min(buffer.size(), pending_.size() - pending_offset_);
        std::memcpy(buffer.data(), pending_.data() + pending_offset_, take);
        pending_offset_ += take;
        if (!has_pending()) {
            pending_.clear();
            pending_.shrink_to_fit();
            pending_offset_ = 0;
        }
        return take;
    }
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
        if (n >= 0) {
            return static_cast<size_t>(n);
        }
        if (errno != EINTR) {
            return Error{std::string("reading the container's output from the attach socket: ") +
                         std::strerror(errno)};
        }
    }
}

Status AttachStream::write_stdin(std::string_view bytes) {
    if (stdin_closed_) {
        return Error{"writing to the container's stdin: stdin already closed"};
    }
    if (bytes.empty()) {
        return {};
    }
    if (int err = send_all(fd_.get(), bytes); err != 0) {
        return Error{std::string("writing to the container's stdin: ") + std::strerror(err)};
    }
    last_stdin_byte_ = bytes.back();
    return {};
}

Status AttachStream::close_stdin() {
    if (stdin_closed_) {
        return {};
    }
    if (tty_) {
        // On a pty, Ctrl-D ends a read; after an unterminated line the first one only flushes it.
        ARUNNER_TRY(write_stdin(last_stdin_byte_ == '\n' ? "\x04" : "\x04\x04"));
        stdin_closed_ = true;
        return {};
    }
    stdin_closed_ = true;
    if (::shutdown(fd_.get(), SHUT_WR) != 0) {
        return Error{std::string("closing the container's stdin (shutdown): ") +
                     std::strerror(errno)};
    }
    return {};
}

}  // namespace arunner::engine
