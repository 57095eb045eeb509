#include "stream/base64_stream.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "util/base64.hpp"
#include "util/files.hpp"

namespace arunner::stream {
namespace {

constexpr const char* kAlphabet = util::kBase64Alphabet;
constexpr unsigned char kInvalid = 0xFF;

constexpr std::array<unsigned char, 256> make_decode_table() {
    std::array<unsigned char, 256> table{};
    for (auto& value : table) {
        value = kInvalid;
    }
    for (unsigned char i = 0; i < 64; ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = i;
    }
    return table;
}

constexpr std::array<unsigned char, 256> kDecode = make_decode_table();

constexpr size_t kEncodeInput = size_t{3} * 256 * 1024;  // bytes read per chunk
constexpr size_t kEncodeOutput = kEncodeInput / 3 * 4;   // characters written per chunk
constexpr size_t kDecodeOutput = size_t{21845} * 3;      // bytes per sink call (< 64 KiB)

Error fd_error(const char* what, int fd, int err) {
    return Error{std::string("base64: cannot ") + what + " fd " + std::to_string(fd) + ": " +
                 std::strerror(err)};
}

std::string describe_char(unsigned char c) {
    if (c >= 0x21 && c < 0x7F) {
        return std::string("'") + static_cast<char>(c) + "'";
    }
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
}

}  // namespace

size_t base64_length(uint64_t n) {
    if (n > kMaxBase64DecodedSize) {
        return SIZE_MAX;
    }
    // Not (n + 2) / 3 * 4, which wraps for n near 2^64.
    return static_cast<size_t>(n / 3 * 4 + (n % 3 != 0 ? 4 : 0));
}

Status base64_encode_fd(int in_fd, int out_fd, std::string& scratch) {
    scratch.resize(kEncodeInput + kEncodeOutput);
    auto* in = reinterpret_cast<unsigned char*>(scratch.data());
    char* out = scratch.data() + kEncodeInput;
    size_t held = 0;  // bytes in `in` not yet encoded (a remainder of 0-2 bytes after each round)
    for (;;) {
        ssize_t n = ::read(in_fd, in + held, kEncodeInput - held);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fd_error("read", in_fd, errno);
        }
        if (n == 0) {
            break;
        }
        held += static_cast<size_t>(n);
        size_t whole = held - held % 3;
        util::base64_encode_groups(in, whole, out);
        if (!util::write_all(out_fd, std::string_view(out, whole / 3 * 4))) {
            return fd_error("write", out_fd, errno);
        }
        std::memmove(in, in + whole, held - whole);
        held -= whole;
    }
    if (held > 0) {
        util::base64_encode_tail(in, held, out);
        if (!util::write_all(out_fd, std::string_view(out, 4))) {
            return fd_error("write", out_fd, errno);
        }
    }
    return {};
}

Base64Decoder::Base64Decoder(uint64_t decoded_size)
    : decoded_size_(decoded_size), total_chars_(base64_length(decoded_size)) {}

Error Base64Decoder::invalid(const unsigned char* quad, uint64_t quad_offset) const {
    for (size_t i = 0; i < 4; ++i) {
        if (kDecode[quad[i]] == kInvalid && quad[i] != '=') {
            return Error{"invalid base64: " + describe_char(quad[i]) + " at offset " +
                         std::to_string(quad_offset + i) + " of a " + std::to_string(total_chars_) +
                         "-character payload"};
        }
    }
    return Error{"invalid base64 padding in the 4 characters at offset " +
                 std::to_string(quad_offset) + " of a " + std::to_string(total_chars_) +
                 "-character payload"};
}

size_t Base64Decoder::decode_quads(const unsigned char* in, size_t quads, std::string& out) {
    size_t start = out.size();
    out.resize(start + quads * 3);
    auto* dst = reinterpret_cast<unsigned char*>(out.data() + start);
    for (size_t q = 0; q < quads; ++q, in += 4, dst += 3) {
        uint32_t a = kDecode[in[0]], b = kDecode[in[1]], c = kDecode[in[2]], d = kDecode[in[3]];
        if ((a | b | c | d) & 0x80) {
            out.resize(start + q * 3);
            return q;
        }
        uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
        dst[0] = static_cast<unsigned char>(v >> 16);
        dst[1] = static_cast<unsigned char>(v >> 8);
        dst[2] = static_cast<unsigned char>(v);
    }
    return quads;
}

bool Base64Decoder::decode_last_quad(const unsigned char* quad, std::string& out) const {
    size_t bytes = decoded_size_ % 3 == 0 ? 3 : decoded_size_ % 3;
    if (bytes == 3) {
        return decode_quads(quad, 1, out) == 1;
    }
    uint32_t a = kDecode[quad[0]], b = kDecode[quad[1]];
    uint32_t c = bytes == 2 ? kDecode[quad[2]] : 0;
    bool padded = quad[3] == '=' && (bytes == 2 || quad[2] == '=');
    if (((a | b | c) & 0x80) || !padded) {
        return false;
    }
    uint32_t v = (a << 18) | (b << 12) | (c << 6);
    out.push_back(static_cast<char>(v >> 16));
    if (bytes == 2) {
        out.push_back(static_cast<char>(v >> 8));
    }
    return true;
}

Status Base64Decoder::flush(const Sink& sink) {
    if (out_.empty()) {
        return {};
    }
    Status status = sink(out_);
    out_.clear();
    return status;
}

Result<size_t> Base64Decoder::feed(std::string_view input, const Sink& sink) {
    if (failed_) {
        return Error{"base64 decoder used after an error"};
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(input.size(), remaining_chars()));
    const auto* p = reinterpret_cast<const unsigned char*>(input.data());
    const unsigned char* end = p + take;
    uint64_t offset = consumed_;  // payload offset of the next character to decode
    auto fail = [&](Error error) -> Error {
        failed_ = true;
        return error;
    };
    out_.clear();
    out_.reserve(kDecodeOutput + 3);

    if (pending_len_ > 0) {
        offset -= pending_len_;
        while (pending_len_ < 4 && p < end) {
            pending_[pending_len_++] = *p++;
        }
        if (pending_len_ < 4) {
            consumed_ += take;
            return take;
        }
        bool last = offset + 4 == total_chars_;
        if (!(last ? decode_last_quad(pending_, out_) : decode_quads(pending_, 1, out_) == 1)) {
            return fail(invalid(pending_, offset));
        }
        pending_len_ = 0;
        offset += 4;
    }

    while (end - p >= 4) {
        size_t room = (kDecodeOutput - out_.size()) / 3;
        size_t quads = std::min<size_t>(static_cast<size_t>(end - p) / 4, room);
        bool ends_payload = offset + quads * 4 == total_chars_;
        size_t plain = ends_payload ? quads - 1 : quads;
        size_t done = decode_quads(p, plain, out_);
        if (done < plain) {
            return fail(invalid(p + 4 * done, offset + 4 * done));
        }
        p += 4 * plain;
        offset += 4 * plain;
        if (ends_payload) {
            if (!decode_last_quad(p, out_)) {
                return fail(invalid(p, offset));
            }
            p += 4;
            offset += 4;
        }
        if (out_.size() + 3 > kDecodeOutput) {
            Status status = flush(sink);
            if (!status.ok()) {
                return fail(status.error());
            }
        }
    }
    while (p < end) {
        pending_[pending_len_++] = *p++;
    }
    consumed_ += take;
    Status status = flush(sink);
    if (!status.ok()) {
        return fail(status.error());
    }
    return take;
}

}  // namespace arunner::stream
