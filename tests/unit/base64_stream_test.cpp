#include "stream/base64_stream.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>

#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

const std::pair<std::string, std::string> kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string out(n, '\0');
    for (char& c : out) {
        c = static_cast<char>(rng() & 0xFF);
    }
    return out;
}

// Encodes `data` through base64_encode_fd, file to file.
std::string encode(const std::string& data) {
    testing::TempDir tmp;
    EXPECT_TRUE(util::write_file(tmp / "in", data, 0600).ok());
    util::UniqueFd in(::open((tmp / "in").c_str(), O_RDONLY));
    util::UniqueFd out(::open((tmp / "out").c_str(), O_WRONLY | O_CREAT, 0600));
    std::string scratch;
    Status status = base64_encode_fd(in.get(), out.get(), scratch);
    EXPECT_TRUE(status.ok()) << status.error().message;
    return *util::read_file(tmp / "out");
}

// Feeds `text` to a decoder of `size` bytes in pieces of `step` characters; returns the decoded
// bytes and how many characters the decoder took in total.
struct Decoded {
    std::string bytes;
    size_t used = 0;
    bool complete = false;
    std::string error;
};

Decoded decode(uint64_t size, std::string_view text, size_t step) {
    Base64Decoder decoder(size);
    Decoded result;
    auto sink = [&](std::string_view bytes) -> Status {
        result.bytes.append(bytes);
        return {};
    };
    while (result.used < text.size() && !decoder.complete()) {
        std::string_view piece = text.substr(result.used, step);
        auto used = decoder.feed(piece, sink);
        if (!used.ok()) {
            result.error = used.error().message;
            return result;
        }
        result.used += *used;
        if (*used < piece.size()) {
            break;  // the payload ended inside this piece
        }
    }
    result.complete = decoder.complete();
    return result;
}

TEST(Base64, LengthIsFourPerStartedTriple) {
    EXPECT_EQ(base64_length(0), 0u);
    EXPECT_EQ(base64_length(1), 4u);
    EXPECT_EQ(base64_length(3), 4u);
    EXPECT_EQ(base64_length(4), 8u);
    EXPECT_EQ(base64_length(732), 976u);
    EXPECT_EQ(base64_length(10ull << 30), 14316557656u);
}

// Sizes near 2^64 once wrapped ((n + 2) / 3 * 4) to tiny lengths.
TEST(Base64, LengthNearTwoToThe64DoesNotWrap) {
    EXPECT_EQ(base64_length(kMaxBase64DecodedSize), SIZE_MAX / 4 * 4);
    EXPECT_EQ(base64_length(kMaxBase64DecodedSize - 1), SIZE_MAX / 4 * 4);
    EXPECT_EQ(base64_length(kMaxBase64DecodedSize + 1), SIZE_MAX);
    EXPECT_EQ(base64_length(UINT64_MAX), SIZE_MAX);
    EXPECT_EQ(base64_length(UINT64_MAX - 1), SIZE_MAX);
}

TEST(Base64, EncodesRfc4648Vectors) {
    for (const auto& [plain, encoded] : kRfc4648) {
        EXPECT_EQ(encode(plain), encoded) << plain;
    }
}

TEST(Base64, DecodesRfc4648Vectors) {
    for (const auto& [plain, encoded] : kRfc4648) {
        Decoded d = decode(plain.size(), encoded, 1000);
        EXPECT_EQ(d.error, "") << encoded;
        EXPECT_TRUE(d.complete) << encoded;
        EXPECT_EQ(d.bytes, plain) << encoded;
        EXPECT_EQ(d.used, encoded.size()) << encoded;
    }
}

TEST(Base64, EncodesAcrossReadBoundariesWithoutLineBreaks) {
    // Bigger than one read chunk and not a multiple of 3, so remainders cross reads.
    std::string data = random_bytes(3 * 256 * 1024 * 2 + 1001, 7);  // 2 mod 3
    std::string text = encode(data);
    EXPECT_EQ(text.size(), base64_length(data.size()));
    EXPECT_EQ(text.find('\n'), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - 1), "=");
    Decoded d = decode(data.size(), text, 100000);
    EXPECT_TRUE(d.complete);
    EXPECT_TRUE(d.bytes == data);
}

TEST(Base64, EncodesFromAPipeWithShortReads) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    util::UniqueFd read_end(fds[0]);
    {
        util::UniqueFd write_end(fds[1]);
        ASSERT_TRUE(util::write_all(write_end.get(), "fo"));
        ASSERT_TRUE(util::write_all(write_end.get(), "ob"));
    }
    testing::TempDir tmp;
    util::UniqueFd out(::open((tmp / "out").c_str(), O_WRONLY | O_CREAT, 0600));
    std::string scratch;
    ASSERT_TRUE(base64_encode_fd(read_end.get(), out.get(), scratch).ok());
    EXPECT_EQ(*util::read_file(tmp / "out"), "Zm9vYg==");
}

TEST(Base64, ReportsAWriteError) {
    testing::TempDir tmp;
    ASSERT_TRUE(util::write_file(tmp / "in", "abc", 0600).ok());
    util::UniqueFd file(::open((tmp / "in").c_str(), O_RDONLY));
    util::UniqueFd read_only(::open("/dev/null", O_RDONLY));
    std::string scratch;
    Status status = base64_encode_fd(file.get(), read_only.get(), scratch);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("cannot write"), std::string::npos)
        << status.error().message;
}

TEST(Base64, DecodesAtEverySplitPoint) {
    for (size_t size : {1u, 2u, 3u, 10u, 11u, 12u}) {
        std::string data = random_bytes(size, static_cast<unsigned>(size));
        std::string text = encode(data);
        for (size_t split = 0; split <= text.size(); ++split) {
            Base64Decoder decoder(size);
            std::string out;
            auto sink = [&](std::string_view bytes) -> Status {
                out.append(bytes);
                return {};
            };
            auto first = decoder.feed(std::string_view(text).substr(0, split), sink);
            ASSERT_TRUE(first.ok()) << first.error().message;
            EXPECT_EQ(*first, split);
            EXPECT_EQ(decoder.complete(), split == text.size());
            auto second = decoder.feed(std::string_view(text).substr(split), sink);
            ASSERT_TRUE(second.ok()) << second.error().message;
            EXPECT_EQ(*second, text.size() - split);
            EXPECT_TRUE(decoder.complete()) << size << " split at " << split;
            EXPECT_EQ(out, data) << size << " split at " << split;
        }
    }
}

TEST(Base64, DecodesOneCharacterAtATime) {
    std::string data = random_bytes(1000, 3);
    Decoded d = decode(data.size(), encode(data), 1);
    EXPECT_TRUE(d.complete);
    EXPECT_EQ(d.bytes, data);
}

TEST(Base64, StopsExactlyAtTheEndOfThePayload) {
    const std::string next = "{\"eof\": true}\n";
    for (size_t size : {0u, 1u, 2u, 3u, 4u, 100000u}) {
        std::string data = random_bytes(size, 11);
        std::string stream = encode(data) + next;
        for (size_t step : {size_t{1}, size_t{5}, stream.size()}) {
            Decoded d = decode(size, stream, step);
            EXPECT_EQ(d.error, "");
            EXPECT_TRUE(d.complete);
            EXPECT_EQ(d.bytes, data);
            EXPECT_EQ(d.used, base64_length(size)) << size << " step " << step;
            EXPECT_EQ(stream.substr(d.used), next);
        }
    }
}

TEST(Base64, EmptyPayloadIsCompleteAndTakesNothing) {
    Base64Decoder decoder(0);
    EXPECT_TRUE(decoder.complete());
    int calls = 0;
    auto used = decoder.feed("{\"eof\": true}\n", [&](std::string_view) -> Status {
        ++calls;
        return {};
    });
    ASSERT_TRUE(used.ok());
    EXPECT_EQ(*used, 0u);
    EXPECT_EQ(calls, 0);
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
    struct Case {
        uint64_t size;
        std::string text;
        std::string expected;  // part of the message
    };
    const Case cases[] = {
        {6, "Zm9v\nYmFy", "byte 0x0a at offset 4"},  // whitespace is not skipped
        {6, "Zm9vYm-y", "'-' at offset 6"},          // URL-safe alphabet is not base64
        {6, "Zm9vY F y", "byte 0x20 at offset 5"},
        {4, "Zm9vYg=a", "padding in the 4 characters at offset 4"},  // must be "=="
        {4, "Zm9vYgAA", "padding in the 4 characters at offset 4"},  // 4 bytes end padded
        {3, "Zm9=", "padding in the 4 characters at offset 0"},      // 3 bytes: no padding
        {6, "Zm9=YmFy", "padding in the 4 characters at offset 0"},  // not in the middle
        {3, "Zm9\xff", "byte 0xff at offset 3"},
    };
    for (const Case& c : cases) {
        for (size_t step : {size_t{1}, size_t{3}, c.text.size()}) {
            Decoded d = decode(c.size, c.text, step);
            EXPECT_NE(d.error.find(c.expected), std::string::npos)
                << c.text << " step " << step << ": " << d.error;
        }
    }
}

TEST(Base64, SinkErrorsStopDecoding) {
    Base64Decoder decoder(6);
    auto used =
        decoder.feed("Zm9vYmFy", [](std::string_view) -> Status { return Error{"disk full"}; });
    ASSERT_FALSE(used.ok());
    EXPECT_EQ(used.error().message, "disk full");
    EXPECT_FALSE(decoder.complete());
    EXPECT_FALSE(decoder.feed("", [](std::string_view) -> Status { return {}; }).ok());
}

TEST(Base64, HandsTheSinkBoundedChunks) {
    std::string data = random_bytes(1 << 20, 5);
    std::string text = encode(data);
    Base64Decoder decoder(data.size());
    size_t largest = 0;
    std::string out;
    auto used = decoder.feed(text, [&](std::string_view bytes) -> Status {
        largest = std::max(largest, bytes.size());
        out.append(bytes);
        return {};
    });
    ASSERT_TRUE(used.ok());
    EXPECT_TRUE(decoder.complete());
    EXPECT_LE(largest, 64u * 1024);
    EXPECT_TRUE(out == data);
}

}  // namespace
}  // namespace arunner::stream
