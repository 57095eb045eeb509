#pragma once
// Streaming standard base64 (RFC 4648 §4: `A-Z a-z 0-9 + /`, `=` padding, no line breaks), the
// encoding of the `{"zipfile": N}` payloads of transmit/worker/process streams (docs/stream.md).
// Neither direction ever holds a whole payload: both work in bounded chunks. Not thread-safe;
// each object belongs to the one stream that uses it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "arunner/error.hpp"

namespace arunner::stream {

/// The largest payload whose base64 length fits in a size_t (about 3/4 of 2^64 bytes).
inline constexpr uint64_t kMaxBase64DecodedSize = SIZE_MAX / 4 * 3;

/// Number of base64 characters that encode `n` bytes: 4 * ceil(n / 3). Computed without
/// overflow; SIZE_MAX when `n` is above kMaxBase64DecodedSize (the length does not fit).
size_t base64_length(uint64_t n);

/// Reads `in_fd` to EOF and writes its base64 to `out_fd` in large chunks, with `=` padding and
/// no newline. `scratch` is the caller's reusable buffer (grown to about 2 MiB; its contents are
/// overwritten). Fails with the failing call and errno text if a read or write fails.
Status base64_encode_fd(int in_fd, int out_fd, std::string& scratch);

/// Push-style decoder of one payload of exactly `decoded_size` bytes, i.e. exactly
/// base64_length(decoded_size) characters. Input may be split at any byte. Every character must
/// be part of the alphabet, or `=` where padding belongs; anything else (whitespace included) is
/// an Error naming the character and its offset in the payload.
class Base64Decoder {
  public:
    /// Receives decoded bytes in order, in chunks of at most 64 KiB; an Error it returns stops
    /// decoding and is returned by feed().
    using Sink = std::function<Status(std::string_view)>;

    /// A decoder of a payload that decodes to `decoded_size` bytes.
    explicit Base64Decoder(uint64_t decoded_size);

    /// Consumes characters from the front of `input` and returns how many it used: all of
    /// them, or fewer when the payload ends inside `input` (the rest belongs to whatever follows
    /// the payload). Decoded bytes go to `sink` before feed() returns. After an Error the
    /// decoder is unusable.
    Result<size_t> feed(std::string_view input, const Sink& sink);

    /// True once all `decoded_size` bytes have been produced (immediately for an empty payload).
    bool complete() const { return !failed_ && consumed_ == total_chars_; }

    /// Characters still expected before the payload ends.
    uint64_t remaining_chars() const { return total_chars_ - consumed_; }

  private:
    // Decodes whole quads without padding; returns how many were valid (all, or the index of
    // the first bad one, whose output is not kept).
    static size_t decode_quads(const unsigned char* in, size_t quads, std::string& out);
    // Decodes the payload's final quad, checking its padding against decoded_size_.
    bool decode_last_quad(const unsigned char* quad, std::string& out) const;
    Error invalid(const unsigned char* quad, uint64_t quad_offset) const;
    Status flush(const Sink& sink);

    uint64_t decoded_size_;
    uint64_t total_chars_;
    uint64_t consumed_ = 0;  // characters accepted so far, pending ones included
    unsigned char pending_[4] = {};
    size_t pending_len_ = 0;  // characters of an incomplete quad carried to the next feed()
    std::string out_;         // decoded bytes not yet handed to the sink
    bool failed_ = false;
};

}  // namespace arunner::stream
