#pragma once
// Base64 encoding, one implementation (RFC 4648 §4: `A-Z a-z 0-9 + /`, `=` padding, no line
// breaks): the primitives the stream's payload encoder runs over its chunks
// (stream/base64_stream.hpp), and whole-string encoding for small values such as an engine's
// X-Registry-Auth header.

#include <cstddef>
#include <string>
#include <string_view>

namespace arunner::util {

/// The standard alphabet; index i is the character of the 6-bit value i.
inline constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `n` bytes (a multiple of 3) to 4*n/3 characters at `out`.
void base64_encode_groups(const unsigned char* in, size_t n, char* out);

/// Encodes the final 1 or 2 bytes of a payload to 4 characters with `=` padding.
void base64_encode_tail(const unsigned char* in, size_t n, char* out);

/// `bytes` in base64 with padding; `url_safe` uses `-` and `_` for `+` and `/` (RFC 4648 §5).
std::string base64_encode(std::string_view bytes, bool url_safe = false);

}  // namespace arunner::util
