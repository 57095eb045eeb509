#pragma once
// The transmit/worker/process byte stream (docs/stream.md): newline-terminated JSON lines (Python
// JSON), except the zip payload that follows a `{"zipfile": N}` line — exactly 4*ceil(N/3)
// base64 characters with no newline after them.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"

namespace arunner::stream {

/// Writes a stream to a file descriptor. Thread-safe: every write holds one lock, so a keepalive
/// written from another thread never lands inside a line or a zip payload.
class WireWriter {
  public:
    explicit WireWriter(int fd) : fd_(fd) {}

    /// One JSON line, as Python's json.dumps (ensure_ascii) plus "\n".
    Status write_json(const nlohmann::ordered_json& line);
    /// `{"zipfile": N}\n` then the base64 of the N bytes of `zip_file`, streamed.
    Status write_zip(const std::filesystem::path& zip_file);
    /// `{"eof": true}\n`.
    Status write_eof();
    /// `{"event": "keepalive", "counter": 0, "uuid": 0}\n` unless another write is under way
    /// (then nothing: the stream is busy, so it is alive). True when written.
    bool try_write_keepalive();
    /// Seconds-resolution monotonic time of the last write (for keepalive pacing).
    std::chrono::steady_clock::time_point last_write() const;

  private:
    Status write_locked(std::string_view bytes);
    int fd_;
    mutable std::mutex mutex_;
    std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
    std::string scratch_;
};

/// Reads a stream from a file descriptor with its own buffer. Not thread-safe.
class WireReader {
  public:
    explicit WireReader(int fd) : fd_(fd) {}

    /// While reading, also watch `fd` (e.g. TerminationSignals::fd()): once it is readable, a
    /// read that would wait fails with an Error instead. -1 = watch nothing.
    void set_interrupt_fd(int fd) { interrupt_fd_ = fd; }

    /// Whenever a read would wait: calls `on_idle` first, then again every `interval_ms` while
    /// nothing comes (a caller flushes what it buffered and polls for cancellation there).
    void set_idle(std::function<void()> on_idle, int interval_ms) {
        on_idle_ = std::move(on_idle);
        idle_interval_ms_ = interval_ms;
    }

    /// The next line without its "\n"; empty at end of stream. A last line without "\n" is
    /// returned as it is. An Error for a read failure or a line over `max_line` bytes (found
    /// before more than about max_line + 64 KiB is buffered).
    Result<std::optional<std::string>> read_line(size_t max_line = size_t{1} << 30);
    /// As read_line(), without a copy: the view is valid until the next call on this reader.
    Result<std::optional<std::string_view>> read_line_view(size_t max_line = size_t{1} << 30);
    /// Decodes the payload of a `{"zipfile": size}` line into `out_fd`. An Error when the
    /// stream ends early or holds something that is not base64.
    Status read_zip(uint64_t size, int out_fd);
    /// How many bytes were read from the fd and not yet returned (what came after the last
    /// line returned, in the same reads).
    size_t buffered() const { return end_ - start_; }

  private:
    /// Reads more bytes into the buffer; false at end of stream.
    Result<bool> fill(size_t max_line = SIZE_MAX);
    /// Waits until fd_ is readable, calling on_idle_ while it is not.
    Status wait_readable();
    int fd_;
    int interrupt_fd_ = -1;
    std::function<void()> on_idle_;
    int idle_interval_ms_ = 100;
    // Bytes [start_, end_) are read and not yet returned. Grown without zero-filling: a long line
    // then costs its own pages, not the whole doubled capacity's.
    std::unique_ptr<char[]> buffer_;
    size_t capacity_ = 0;
    size_t start_ = 0;
    size_t end_ = 0;
};

/// Python's repr() of a bytes value: b'...' with \\x escapes, as ansible-runner quotes a line it
/// cannot parse.
std::string python_bytes_repr(std::string_view bytes);

}  // namespace arunner::stream
