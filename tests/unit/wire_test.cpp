#include "stream/wire.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "stream/base64_stream.hpp"
#include "util/files.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

// A readable fd holding `bytes`, read from the start.
util::UniqueFd stream_of(const std::string& bytes) {
    util::UniqueFd fd(::memfd_create("wire_test", MFD_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(util::write_all(fd.get(), bytes));
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
    return fd;
}

// fuzz/crashes-found/wire_reader_fuzz-zipfile-size-overflow.bin: a zip header of 2^64 - 1
// bytes made the payload's base64 length wrap to 0, so read_zip "read" it without reading.
TEST(WireReader, ZipSizeWhoseBase64LengthOverflowsIsRefused) {
    const std::string stream("{\"zipfile\": 18446744073709551615}\nQUFB\0\0\x07", 42);
    util::UniqueFd in = stream_of(stream);
    util::UniqueFd out(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(out.valid());
    WireReader reader(in.get());
    auto header = reader.read_line();
    ASSERT_TRUE(header.ok() && *header);
    EXPECT_EQ(**header, "{\"zipfile\": 18446744073709551615}");
    Status read = reader.read_zip(18446744073709551615ull, out.get());
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().message,
              "a zip payload of 18446744073709551615 bytes is too large: its base64 length does "
              "not fit in 64 bits");
}

TEST(WireReader, ZipAtTheLargestSizeIsReadUntilTheStreamEnds) {
    util::UniqueFd in = stream_of("QUFB");
    util::UniqueFd out(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    WireReader reader(in.get());
    Status read = reader.read_zip(kMaxBase64DecodedSize, out.get());
    ASSERT_FALSE(read.ok());
    EXPECT_NE(read.error().message.find("the stream ended inside a zip payload"), std::string::npos)
        << read.error().message;
}

TEST(WireReader, SmallZipIsDecoded) {
    util::UniqueFd in = stream_of("QUFBQg=={\"eof\": true}\n");  // no newline after a payload
    util::UniqueFd out(::memfd_create("wire_test_out", MFD_CLOEXEC));
    WireReader reader(in.get());
    ASSERT_TRUE(reader.read_zip(4, out.get()).ok());
    char got[8] = {};
    EXPECT_EQ(::pread(out.get(), got, sizeof got, 0), 4);
    EXPECT_EQ(std::string(got, 4), "AAAB");
    auto next = reader.read_line();
    ASSERT_TRUE(next.ok() && *next);
    EXPECT_EQ(**next, "{\"eof\": true}");
}

}  // namespace
}  // namespace arunner::stream
