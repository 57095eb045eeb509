#include "util/uuid.hpp"

#include <sys/random.h>

#include <array>
#include <cstdint>
#include <random>

namespace arunner::util {

std::string uuid4() {
    std::array<uint8_t, 16> bytes{};
    if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
        std::random_device device;  // getrandom cannot fail on Linux >= 3.17; this is a fallback
        for (auto& b : bytes) {
            b = static_cast<uint8_t>(device());
        }
    }
    bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        out.push_back(hex[bytes[i] >> 4]);
        out.push_back(hex[bytes[i] & 0x0F]);
    }
    return out;
}

std::string uuid_hex(const std::string& uuid) {
    std::string out;
    out.reserve(32);
    for (char c : uuid) {
        if (c != '-') {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace arunner::util
