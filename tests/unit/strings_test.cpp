// src/util/strings.cpp: ASCII trimming and lowering, and locale-free number parsing. Expected
// numbers are what Debian's /usr/bin/python3 (3.11) float() gives for the same text.

#include "util/strings.hpp"

#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace arunner::util {
namespace {

TEST(Trim, DropsAsciiWhitespaceAtBothEnds) {
    EXPECT_EQ(trim(" \t a b \r\n\v\f"), "a b");
    EXPECT_EQ(trim("plain"), "plain");
    EXPECT_EQ(trim(""), "");
    EXPECT_EQ(trim(" \n "), "");
    EXPECT_EQ(trim("\xC2\xA0x\xC2\xA0"), "\xC2\xA0x\xC2\xA0");  // U+00A0 is not ASCII space
}

TEST(ToLower, LowersAsciiLettersOnly) {
    EXPECT_EQ(to_lower("YeS-On_TRUE"), "yes-on_true");
    EXPECT_EQ(to_lower("\xC3\x84X"), "\xC3\x84x");  // "ÄX": the UTF-8 bytes are kept
    EXPECT_EQ(to_lower(""), "");
    EXPECT_TRUE(equals_ignoring_case("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(equals_ignoring_case("abc", "abd"));
}

TEST(ParseInt, WholeTextInRangeOnly) {
    EXPECT_EQ(parse_int<int>("42"), 42);
    EXPECT_EQ(parse_int<int>("-7"), -7);
    EXPECT_EQ(parse_int<int>("ff", 16), 255);
    EXPECT_EQ(parse_int<int64_t>("9223372036854775807"), std::numeric_limits<int64_t>::max());
    EXPECT_FALSE(parse_int<int64_t>("9223372036854775808").has_value());
    EXPECT_FALSE(parse_int<unsigned>("-1").has_value());
    EXPECT_FALSE(parse_int<int>("+1").has_value());
    EXPECT_FALSE(parse_int<int>(" 1").has_value());
    EXPECT_FALSE(parse_int<int>("1 ").has_value());
    EXPECT_FALSE(parse_int<int>("1.0").has_value());
    EXPECT_FALSE(parse_int<int>("").has_value());
}

TEST(ParseDouble, ReadsWhatPythonFloatReads) {
    EXPECT_EQ(parse_double("1.5"), 1.5);
    EXPECT_EQ(parse_double("+1.5"), 1.5);
    EXPECT_EQ(parse_double("+3"), 3.0);
    EXPECT_EQ(parse_double("-2"), -2.0);
    EXPECT_EQ(parse_double("1e3"), 1000.0);
    EXPECT_EQ(parse_double(".5"), 0.5);
    EXPECT_EQ(parse_double("5."), 5.0);
    EXPECT_EQ(parse_double("inf"), std::numeric_limits<double>::infinity());
    EXPECT_EQ(parse_double("-Infinity"), -std::numeric_limits<double>::infinity());
    ASSERT_TRUE(parse_double("nan").has_value());
    EXPECT_TRUE(std::isnan(*parse_double("nAn")));
    // Beyond a double: infinity or zero, as float("1e400") and float("-1e-400").
    EXPECT_EQ(parse_double("1e400"), std::numeric_limits<double>::infinity());
    EXPECT_EQ(parse_double("-1e400"), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(parse_double("123456789e301"), std::numeric_limits<double>::infinity());
    ASSERT_TRUE(parse_double("-1e-400").has_value());
    EXPECT_EQ(*parse_double("-1e-400"), 0.0);
    EXPECT_TRUE(std::signbit(*parse_double("-1e-400")));
    EXPECT_EQ(parse_double("0.000001e-320"), 0.0);
}

TEST(ParseDouble, RefusesWhatPythonFloatRefuses) {
    for (const char* text :
         {"1,5", "3 s", "", "+", "-", "+-1", "--1", "e5", "1e", "0x10", "nan(1)", "1.5.2", "one"}) {
        EXPECT_FALSE(parse_double(text).has_value()) << text;
    }
    // float() strips spaces and takes '_' between digits; parse_double leaves that to callers.
    EXPECT_FALSE(parse_double(" 1").has_value());
    EXPECT_FALSE(parse_double("1_0").has_value());
}

// "1.5" is one and a half whatever LC_NUMERIC says (strtod and stod would read "1" under a
// locale whose decimal point is a comma, and take "1,5").
TEST(ParseDouble, IgnoresTheLocale) {
    const std::string saved = std::setlocale(LC_NUMERIC, nullptr);
    const char* comma_locale = nullptr;
    for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8"}) {
        if (std::setlocale(LC_NUMERIC, name) != nullptr &&
            std::string(std::localeconv()->decimal_point) == ",") {
            comma_locale = name;
            break;
        }
    }
    if (comma_locale == nullptr) {
        std::setlocale(LC_NUMERIC, saved.c_str());
        FAIL() << "no locale with a decimal comma is installed (locale -a); scripts/setup "
                  "generates de_DE.UTF-8";
    }
    const auto point = parse_double("1.5");
    const auto comma = parse_double("1,5");
    std::setlocale(LC_NUMERIC, saved.c_str());
    EXPECT_EQ(point, 1.5) << comma_locale;
    EXPECT_FALSE(comma.has_value()) << comma_locale;
}

TEST(DurationText, WholeSecondsOrMilliseconds) {
    EXPECT_EQ(duration_text(5000), "5 s");
    EXPECT_EQ(duration_text(250), "250 ms");
    EXPECT_EQ(duration_text(0), "0 s");
}

TEST(Strings, CheckSecondsRefusesWhatIsNotANumberOfSecondsNamingTheKey) {
    EXPECT_TRUE(check_seconds(0, "keepalive", "").ok());
    EXPECT_TRUE(check_seconds(kMaxSeconds, "keepalive", "").ok());
    auto nan = check_seconds(std::nan(""), "keepalive", "");
    ASSERT_FALSE(nan.ok());
    EXPECT_EQ(nan.error().message, "keepalive must be a number of seconds, not NaN");
    auto negative = check_seconds(-1, "job_timeout", "env/settings");
    ASSERT_FALSE(negative.ok());
    EXPECT_EQ(negative.error().message, "env/settings: job_timeout must not be negative");
    EXPECT_FALSE(check_seconds(kMaxSeconds * 2, "keepalive", "").ok());
}

}  // namespace
}  // namespace arunner::util
