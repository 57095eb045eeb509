#include "util/text.hpp"

#include <cstdint>
#include <cstring>

namespace arunner::util {
namespace {

/// The UTF-8 sequence at `s[i]`: its length when valid (Python's rules: no overlongs, no
/// surrogates, nothing above U+10FFFF), else 0 and in `invalid` how many bytes Python's
/// 'replace' handler swallows for one U+FFFD (the maximal valid prefix, at least one byte).
size_t sequence_at(std::string_view s, size_t i, size_t& invalid) {
    uint8_t b0 = static_cast<uint8_t>(s[i]);
    invalid = 1;
    if (b0 < 0x80) {
        return 1;
    }
    size_t n = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;
        hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        lo = b0 == 0xF0 ? 0x90 : 0x80;
        hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    size_t k = 1;
    for (; k < n && i + k < s.size(); ++k) {
        uint8_t b = static_cast<uint8_t>(s[i + k]);
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
            break;
        }
    }
    if (k == n) {
        return n;
    }
    invalid = k;
    return 0;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
    size_t i = 0;
    while (i < bytes.size()) {
        // Fast path over ASCII, eight bytes at a time.
        while (i + 8 <= bytes.size()) {
            uint64_t word;
            std::memcpy(&word, bytes.data() + i, sizeof word);
            if ((word & 0x8080808080808080ULL) != 0) {
                break;
            }
            i += 8;
        }
        while (i < bytes.size() && static_cast<uint8_t>(bytes[i]) < 0x80) {
            ++i;
        }
        if (i == bytes.size()) {
            break;
        }
        size_t invalid = 0;
        size_t n = sequence_at(bytes, i, invalid);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

std::string valid_utf8(std::string_view bytes) {
    if (is_valid_utf8(bytes)) {
        return std::string(bytes);
    }
    std::string out;
    out.reserve(bytes.size() + 16);
    size_t i = 0;
    while (i < bytes.size()) {
        size_t invalid = 0;
        size_t n = sequence_at(bytes, i, invalid);
        if (n > 0) {
            out.append(bytes.substr(i, n));
            i += n;
        } else {
            out.append("\xEF\xBF\xBD");
            i += invalid;
        }
    }
    return out;
}

size_t count_newlines(std::string_view text) {
    size_t count = 0;
    const char* p = text.data();
    const char* end = p + text.size();
    while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p))))) {
        ++count;
        ++p;
    }
    return count;
}

std::vector<std::string_view> split_lines_keep_ends(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t start = 0;
    size_t i = 0;
    while (i < text.size()) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        size_t end = 0;  // one past the separator, when one is here
        if (c == '\n' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e) {
            end = i + 1;
        } else if (c == '\r') {
            end = (i + 1 < text.size() && text[i + 1] == '\n') ? i + 2 : i + 1;
        } else if (c == 0xC2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) == 0x85) {
            end = i + 2;
        } else if (c == 0xE2 && i + 2 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
            end = i + 3;
        }
        if (end != 0) {
            lines.push_back(text.substr(start, end - start));
            start = end;
            i = end;
        } else {
            ++i;
        }
    }
    if (start < text.size()) {
        lines.push_back(text.substr(start));
    }
    return lines;
}

}  // namespace arunner::util
