// Fuzzes the stream reader (src/stream/wire.hpp, WireReader) with a transmit, worker or process
// stream, which comes from a peer that is not trusted.
//
// The input is the stream, minus its last three bytes, which choose the line limit, how the
// stream arrives (one read from a memfd, or short reads: one SOCK_SEQPACKET packet per read, in
// sizes from the input) and whether lines are read as copies or views. The reader is driven as
// the worker and the processor drive it (a `{"zipfile": N}` line is followed by read_zip) and
// compared with a plain model of the format:
// - each line is the bytes up to the next newline (the last one as it is), then the end;
// - a line-length error only for a line longer than the limit;
// - read_zip succeeds exactly when the next 4*ceil(N/3) bytes are strict base64 of N bytes
//   (padding where N needs it), writes exactly those N bytes, and the next line starts right
//   after the payload.

#include <fuzzer/FuzzedDataProvider.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "stream/wire.hpp"
#include "util/unique_fd.hpp"

namespace {

using arunner::fuzz::Choices;
using arunner::util::UniqueFd;

constexpr size_t kMaxPackets = 64;  // well within a socket's send buffer: writes never block

int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/// The model of a payload of `size` bytes at the front of `rest`: its bytes, and how many
/// characters it took; nullopt when `rest` is too short or not strict base64 of `size` bytes.
std::optional<std::string> model_payload(std::string_view rest, uint64_t size, size_t& chars) {
    unsigned __int128 need = (static_cast<unsigned __int128>(size) + 2) / 3 * 4;
    if (need > rest.size()) {
        return std::nullopt;
    }
    chars = static_cast<size_t>(need);
    std::string out;
    for (size_t q = 0; q < chars; q += 4) {
        bool last = q + 4 == chars;
        size_t bytes = last && size % 3 != 0 ? size % 3 : 3;  // 1 or 2: "==" or "=" follows
        uint32_t v = 0;
        for (size_t i = 0; i < 4; ++i) {
            auto c = static_cast<unsigned char>(rest[q + i]);
            int d = base64_value(c);
            if (i > bytes) {
                if (c != '=') {
                    return std::nullopt;
                }
                d = 0;
            } else if (d < 0) {
                return std::nullopt;
            }
            v = v << 6 | static_cast<uint32_t>(d);
        }
        for (size_t i = 0; i < bytes; ++i) {
            out += static_cast<char>(v >> (16 - 8 * i));
        }
    }
    return out;
}

/// The stream's fd: a memfd read in one piece, or the read end of a SOCK_SEQPACKET pair written
/// in packets (each read then returns one packet: short reads without a thread).
UniqueFd stream_fd(std::string_view stream, bool short_reads, Choices& choices) {
    if (!short_reads) {
        UniqueFd fd(::memfd_create("wire-fuzz", MFD_CLOEXEC));
        FUZZ_CHECK(fd.valid(), "memfd_create");
        FUZZ_CHECK(
            ::write(fd.get(), stream.data(), stream.size()) == static_cast<ssize_t>(stream.size()),
            "write to a memfd");
        FUZZ_CHECK(::lseek(fd.get(), 0, SEEK_SET) == 0, "lseek");
        return fd;
    }
    int pair[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0, "socketpair");
    UniqueFd reader(pair[0]);
    UniqueFd writer(pair[1]);
    size_t smallest = stream.size() / kMaxPackets + 1;
    for (size_t at = 0; at < stream.size();) {
        size_t n = std::min(stream.size() - at, std::max(smallest, choices.up_to(300)));
        FUZZ_CHECK(
            ::send(writer.get(), stream.data() + at, n, MSG_DONTWAIT) == static_cast<ssize_t>(n),
            "send a packet");
        at += n;
    }
    return reader;  // the writer closes here: the reader sees EOF after the last packet
}

std::string memfd_contents(int fd) {
    std::string out;
    char buffer[4096];
    for (off_t at = 0;;) {
        ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
        FUZZ_CHECK(n >= 0, "pread");
        if (n == 0) {
            return out;
        }
        out.append(buffer, static_cast<size_t>(n));
        at += n;
    }
}

/// The size of a `{"zipfile": N}` line, as the worker and the processor take it.
std::optional<uint64_t> zipfile_size(std::string_view line) {
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_object() || !json.contains("zipfile") || !json["zipfile"].is_number_unsigned()) {
        return std::nullopt;
    }
    return json["zipfile"].get<uint64_t>();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider input(data, size);
    const auto limit_choice = input.ConsumeIntegral<uint8_t>();
    const auto mode = input.ConsumeIntegral<uint8_t>();
    const auto seed = input.ConsumeIntegral<uint8_t>();
    const std::string stream = input.ConsumeRemainingBytesAsString();
    static constexpr size_t kLimits[] = {0, 1, 2, 3, 16, 100, 1000, size_t{1} << 30};
    const size_t max_line = kLimits[limit_choice % std::size(kLimits)];
    Choices choices(seed);

    UniqueFd fd = stream_fd(stream, (mode & 1) != 0, choices);
    arunner::stream::WireReader reader(fd.get());
    size_t pos = 0;  // where the model is in `stream`
    for (;;) {
        size_t newline = stream.find('\n', pos);
        std::string_view expected = std::string_view(stream).substr(
            pos, newline == std::string::npos ? std::string::npos : newline - pos);
        std::optional<std::string> line;
        if (choices.next() % 2 == 0) {
            auto got = reader.read_line(max_line);
            if (!got.ok()) {
                FUZZ_CHECK(expected.size() > max_line, "a line-length error for a short line");
                return 0;
            }
            line = std::move(*got);
        } else {
            auto got = reader.read_line_view(max_line);
            if (!got.ok()) {
                FUZZ_CHECK(expected.size() > max_line, "a line-length error for a short line");
                return 0;
            }
            if (*got) {
                line = std::string(**got);
            }
        }
        if (pos == stream.size()) {
            FUZZ_CHECK(!line, "the end of the stream");
            return 0;
        }
        FUZZ_CHECK(line && *line == expected, "the next line of the stream");
        pos = newline == std::string::npos ? stream.size() : newline + 1;

        auto zip_size = zipfile_size(*line);
        if (!zip_size) {
            continue;
        }
        UniqueFd out(::memfd_create("wire-fuzz-zip", MFD_CLOEXEC));
        FUZZ_CHECK(out.valid(), "memfd_create");
        size_t chars = 0;
        auto payload = model_payload(std::string_view(stream).substr(pos), *zip_size, chars);
        arunner::Status status = reader.read_zip(*zip_size, out.get());
        if (!payload) {
            FUZZ_CHECK(!status.ok(), "read_zip refuses a short or invalid payload");
            return 0;
        }
        FUZZ_CHECK(status.ok(), "read_zip takes a valid payload");
        FUZZ_CHECK(memfd_contents(out.get()) == *payload, "read_zip writes the payload's bytes");
        pos += chars;
    }
}
