#pragma once
// The attach connection to a container: an HTTP/1.1 request upgraded ("hijacked") into a raw
// byte stream that carries the container's stdin one way and its stdout/stderr the other, and
// StreamDemux, which splits that output back into stdout and stderr.
//
// Not thread-safe: one AttachStream and one StreamDemux belong to one job's poll loop.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "arunner/error.hpp"
#include "util/clock.hpp"
#include "util/output_stream.hpp"
#include "util/unique_fd.hpp"

namespace arunner::engine {

/// Receives demultiplexed output; `bytes` is only valid during the call.
using OutputChunkSink = std::function<void(OutputStream stream, std::string_view bytes)>;

/// Turns the attach stream's bytes into (stream, bytes) chunks. Without a tty the engine sends
/// frames `[stream, 0, 0, 0, length as 32-bit big-endian]` + payload (1 = stdout, 2 = stderr);
/// they may be split at any byte. With a tty the bytes are raw and all go to `out`. The mode
/// must come from the container's Tty setting, never from the response's Content-Type.
/// Memory stays bounded: a frame's payload is handed on as it arrives, never collected whole.
class StreamDemux {
  public:
    /// `tty` is the container's Tty setting.
    explicit StreamDemux(bool tty) : tty_(tty) {}

    /// Consumes `bytes` (any split), calling `sink` for each piece of payload in order. Fails on
    /// a frame with an unknown stream byte or on an engine error frame (stream 3), whose text
    /// becomes the message.
    Status feed(std::string_view bytes, const OutputChunkSink& sink);

    /// Call at end of stream: fails when it ended inside a frame (header or payload).
    Status finish() const;

  private:
    bool tty_;
    unsigned char header_[8] = {};
    size_t header_filled_ = 0;
    uint32_t payload_left_ = 0;
    OutputStream current_ = OutputStream::out;
    bool in_error_frame_ = false;
    std::string error_text_;
};

/// Encodes one frame the way an engine does without a tty (for fakes and tests).
std::string encode_stream_frame(OutputStream stream, std::string_view payload);

/// An attach connection after the 101 upgrade. Owns the socket; movable, not copyable.
class AttachStream {
  public:
    /// Connects to `socket`, sends `POST <target>` with `Connection: Upgrade` / `Upgrade: tcp`
    /// and reads the answer's headers (within `timeout`). `target` is the attach path with its
    /// query, e.g. "/v1.41/containers/ID/attach?stream=1&stdin=1&stdout=1&stderr=1". 101 (or a
    /// 200 from engines that stream without upgrading) gives the stream; any other status is an
    /// Error in http_status_error's form; a missing socket or a non-HTTP peer is a clear Error.
    /// `tty` is the container's Tty setting (it decides close_stdin()). The timeout is measured
    /// and waited for on `clock`.
    static Result<AttachStream> open(const std::filesystem::path& socket, const std::string& target,
                                     bool tty, std::chrono::milliseconds timeout,
                                     util::Clock& clock = util::steady_clock());

    /// Takes an already-upgraded connection: `fd`, the bytes already read past the headers
    /// (`pending`), and the container's Tty setting. Fakes build one over a socketpair.
    AttachStream(util::UniqueFd fd, std::string pending, bool tty);

    AttachStream(AttachStream&&) noexcept = default;
    AttachStream& operator=(AttachStream&&) noexcept = default;
    AttachStream(const AttachStream&) = delete;
    AttachStream& operator=(const AttachStream&) = delete;

    /// The socket, for the caller's poll loop (POLLIN: output or end; POLLOUT: stdin room).
    /// Poll it only when has_pending() is false.
    int fd() const { return fd_.get(); }

    /// The container's Tty setting (raw output, 0x04 for end of stdin).
    bool tty() const { return tty_; }

    /// True while bytes read with the headers have not been handed out by read() yet.
    bool has_pending() const { return pending_offset_ < pending_.size(); }

    /// Output bytes into `buffer`: first those read with the headers, then from the socket
    /// (blocking unless the caller polled). 0 means the output has ended.
    Result<size_t> read(std::span<char> buffer);

    /// Writes all of `bytes` to the container's stdin (blocking; no SIGPIPE).
    Status write_stdin(std::string_view bytes);

    /// Ends the container's stdin. Without a tty: shutdown(SHUT_WR), a half-close; the output
    /// keeps coming until the container is done. With a tty the pty ignores a half-close, so
    /// this writes 0x04 (Ctrl-D) instead, twice after an unterminated line.
    Status close_stdin();

  private:
    util::UniqueFd fd_;
    std::string pending_;
    size_t pending_offset_ = 0;
    bool tty_ = false;
    bool stdin_closed_ = false;
    char last_stdin_byte_ = '\n';
};

}  // namespace arunner::engine
