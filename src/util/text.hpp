#pragma once
// Text rules borrowed from Python, for byte-compatible output: str.splitlines(keepends=True) and
// decoding UTF-8 with errors='replace' (what pexpect does with the child's output).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace arunner::util {

/// One UTF-8 character read from the front of some bytes.
struct Utf8Char {
    char32_t code_point = 0;  ///< U+FFFD when the bytes are ill-formed
    size_t length = 0;        ///< bytes used; when ill-formed, the maximal subpart (at least 1)
    bool valid = false;
};

/// The character at the front of `bytes` (not empty), by Python's rules: no overlongs, no
/// surrogates, nothing above U+10FFFF. An ill-formed sequence uses the bytes Python's
/// decode(errors='replace') turns into one U+FFFD (Unicode's maximal subpart, as CPython).
/// Every UTF-8 check in arunner goes through here; inline, as scanners call it per character.
inline Utf8Char decode_utf8_char(std::string_view bytes) {
    const auto lead = static_cast<unsigned char>(bytes[0]);
    if (lead < 0x80) {
        return {lead, 1, true};
    }
    size_t need = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 1;
        cp = lead & 0x1FU;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 2;
        cp = lead & 0x0FU;
        lo = lead == 0xE0 ? 0xA0 : 0x80;
        hi = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 3;
        cp = lead & 0x07U;
        lo = lead == 0xF0 ? 0x90 : 0x80;
        hi = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return {0xFFFD, 1, false};
    }
    size_t used = 1;
    for (size_t i = 0; i < need; ++i, lo = 0x80, hi = 0xBF) {
        if (used >= bytes.size()) {
            return {0xFFFD, used, false};
        }
        const auto c = static_cast<unsigned char>(bytes[used]);
        if (c < lo || c > hi) {
            return {0xFFFD, used, false};
        }
        cp = (cp << 6) | (c & 0x3FU);
        ++used;
    }
    return {cp, used, true};
}

/// How many bytes at the front of `bytes` are valid UTF-8: bytes.size() when all are, else the
/// offset of the first ill-formed sequence.
size_t valid_utf8_prefix(std::string_view bytes);

/// Python's `text.splitlines(True)` on UTF-8 text: splits after \n, \r\n, \r, \v, \f, \x1c,
/// \x1d, \x1e, U+0085, U+2028 and U+2029, keeping the separators.
std::vector<std::string_view> split_lines_keep_ends(std::string_view text);

/// `bytes` as valid UTF-8: each invalid sequence becomes U+FFFD, as Python's
/// bytes.decode('utf-8', 'replace'). Returns the input unchanged (no copy) when it is valid.
std::string valid_utf8(std::string_view bytes);

/// `bytes` safe to print on a terminal: every control character (C0 but tab and newline, DEL,
/// and C1 such as U+009B, the one-byte CSI) becomes `\xNN` or `\u00NN`, an invalid UTF-8 byte
/// `\xNN`, so text from a peer (a worker's explanation, a registry's error) cannot move the
/// cursor, retitle the window or hide what follows.
std::string printable(std::string_view bytes);

/// Number of '\n' bytes in `text`.
size_t count_newlines(std::string_view text);

/// True when `bytes` is valid UTF-8.
inline bool is_valid_utf8(std::string_view bytes) {
    return valid_utf8_prefix(bytes) == bytes.size();
}

}  // namespace arunner::util
