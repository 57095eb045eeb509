#include "util/base64.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace arunner::util {
namespace {

// Two output characters for every 12-bit group: two table loads per three input bytes.
constexpr std::array<char, 8192> make_pair_table() {
    std::array<char, 8192> table{};
    for (size_t i = 0; i < 4096; ++i) {
        table[2 * i] = kBase64Alphabet[i >> 6];
        table[2 * i + 1] = kBase64Alphabet[i & 63];
    }
    return table;
}

constexpr std::array<char, 8192> kPairs = make_pair_table();

}  // namespace

void base64_encode_groups(const unsigned char* in, size_t n, char* out) {
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
        std::memcpy(out, &kPairs[size_t{2} * (v >> 12)], 2);
        std::memcpy(out + 2, &kPairs[size_t{2} * (v & 0xFFF)], 2);
        out += 4;
    }
}

void base64_encode_tail(const unsigned char* in, size_t n, char* out) {
    uint32_t v = uint32_t{in[0]} << 16;
    if (n == 2) {
        v |= uint32_t{in[1]} << 8;
    }
    out[0] = kBase64Alphabet[(v >> 18) & 63];
    out[1] = kBase64Alphabet[(v >> 12) & 63];
    out[2] = n == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out[3] = '=';
}

std::string base64_encode(std::string_view bytes, bool url_safe) {
    const size_t whole = bytes.size() - bytes.size() % 3;
    std::string out(whole / 3 * 4 + (whole < bytes.size() ? 4 : 0), '=');
    const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
    base64_encode_groups(in, whole, out.data());
    if (whole < bytes.size()) {
        base64_encode_tail(in + whole, bytes.size() - whole, out.data() + whole / 3 * 4);
    }
    if (url_safe) {
        for (char& c : out) {
            c = c == '+' ? '-' : c == '/' ? '_' : c;
        }
    }
    return out;
}

}  // namespace arunner::util
