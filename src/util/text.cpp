#include "util/text.hpp"

#include <cstdint>
#include <cstring>

namespace arunner::util {

size_t valid_utf8_prefix(std::string_view bytes) {
    size_t i = 0;
    while (i < bytes.size()) {
        // Fast path over ASCII, eight bytes at a time.
        while (i + 8 <= bytes.size()) {
            uint64_t word = 0;
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
        const Utf8Char c = decode_utf8_char(bytes.substr(i));
        if (!c.valid) {
            return i;
        }
        i += c.length;
    }
    return bytes.size();
}

std::string valid_utf8(std::string_view bytes) {
    if (is_valid_utf8(bytes)) {
        return std::string(bytes);
    }
    std::string out;
    out.reserve(bytes.size() + 16);
    size_t i = 0;
    while (i < bytes.size()) {
        const Utf8Char c = decode_utf8_char(bytes.substr(i));
        if (c.valid) {
            out.append(bytes.substr(i, c.length));
        } else {
            out.append("\xEF\xBF\xBD");
        }
        i += c.length;
    }
    return out;
}

std::string printable(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size());
    size_t i = 0;
    while (i < bytes.size()) {
        const Utf8Char c = decode_utf8_char(bytes.substr(i));
        const bool control =
            c.valid && ((c.code_point < 0x20 && c.code_point != '\t' && c.code_point != '\n') ||
                        (c.code_point >= 0x7f && c.code_point < 0xa0));
        if (c.valid && !control) {
            out.append(bytes.substr(i, c.length));
        } else if (control && c.code_point >= 0x80) {
            out += "\\u00";
            out += kHex[(c.code_point >> 4) & 0xf];
            out += kHex[c.code_point & 0xf];
        } else {
            for (size_t k = 0; k < c.length; ++k) {
                const auto b = static_cast<unsigned char>(bytes[i + k]);
                out += "\\x";
                out += kHex[b >> 4];
                out += kHex[b & 0xf];
            }
        }
        i += c.length;
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
