#include "util/text.hpp"

#include <gtest/gtest.h>

namespace arunner::util {
namespace {

TEST(ValidUtf8, ReplacesLikePythonDecodeReplace) {
    // Expected values from /usr/bin/python3: bytes.decode('utf-8', 'replace').encode().
    EXPECT_EQ(valid_utf8("plain"), "plain");
    EXPECT_EQ(valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_EQ(valid_utf8("a\xFF"
                         "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(valid_utf8("\xE2\x82"), "\xEF\xBF\xBD");  // a cut 3-byte sequence: one
    EXPECT_EQ(valid_utf8("\xE2\x82x"), "\xEF\xBF\xBDx");
    EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
    EXPECT_EQ(valid_utf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");                  // emoji
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_TRUE(is_valid_utf8(std::string(100, 'a') + "\xC3\xA9" + std::string(100, 'b')));
}

TEST(SplitLines, MatchesPythonSplitlinesKeepends) {
    auto lines = split_lines_keep_ends(
        "a\nb\r\nc\rd\x0b"
        "e\xE2\x80\xA8"
        "f");
    std::vector<std::string> got(lines.begin(), lines.end());
    EXPECT_EQ(got,
              (std::vector<std::string>{"a\n", "b\r\n", "c\r", "d\x0b", "e\xE2\x80\xA8", "f"}));
    EXPECT_TRUE(split_lines_keep_ends("").empty());
}

TEST(Printable, ControlCharactersAreEscapedTextStays) {
    EXPECT_EQ(printable("plain \xc3\xa9t\xc3\xa9\tand\nlines"),
              "plain \xc3\xa9t\xc3\xa9\tand\nlines");
    EXPECT_EQ(printable("\x1b]0;pwned\x07\x1b[2J"), "\\x1b]0;pwned\\x07\\x1b[2J");
    EXPECT_EQ(printable("\r\x7f"), "\\x0d\\x7f");
    EXPECT_EQ(printable("\xc2\x9b"
                        "31m"),
              "\\u009b31m");  // C1 CSI
    EXPECT_EQ(printable("bad \xff\xfe"), "bad \\xff\\xfe");
    EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
}

TEST(CountNewlines, CountsOnlyLineFeeds) {
    EXPECT_EQ(count_newlines("a\r\nb\n\rc"), 2u);
    EXPECT_EQ(count_newlines(std::string(1 << 20, '\n')), size_t{1} << 20);
}

}  // namespace
}  // namespace arunner::util
