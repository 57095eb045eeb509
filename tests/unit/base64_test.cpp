// src/util/base64.cpp: whole-string encoding and the group/tail primitives the stream's encoder
// (tests/unit/base64_stream_test.cpp) runs over its chunks, on RFC 4648's test vectors.

#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace arunner::util {
namespace {

TEST(UtilBase64, EncodesRfc4648sVectors) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(UtilBase64, UrlSafeUsesDashAndUnderscore) {
    const std::string bytes("\xfb\xff\xbf", 3);
    EXPECT_EQ(base64_encode(bytes), "+/+/");
    EXPECT_EQ(base64_encode(bytes, true), "-_-_");
}

TEST(UtilBase64, GroupsAndTailAddUpToTheWholeEncoding) {
    const std::string bytes = "any carnal pleasure.";  // 20 bytes: 6 groups and a tail of 2
    std::string out(4 * 6 + 4, '?');
    const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
    base64_encode_groups(in, 18, out.data());
    base64_encode_tail(in + 18, 2, out.data() + 24);
    EXPECT_EQ(out, base64_encode(bytes));
    EXPECT_EQ(out, "YW55IGNhcm5hbCBwbGVhc3VyZS4=");
}

}  // namespace
}  // namespace arunner::util
