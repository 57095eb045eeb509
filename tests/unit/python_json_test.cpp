// Expected values were produced by Debian's /usr/bin/python3 (3.11): json.dumps(v),
// json.dumps(v, ensure_ascii=False) and str(v), invalid UTF-8 decoded with errors="replace".

#include "util/python_json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace arunner::util {
namespace {

using Json = nlohmann::ordered_json;
using namespace std::string_literals;

struct FloatCase {
    double value;
    const char* repr;
};

const FloatCase kFloatCases[] = {
    {0.1, "0.1"},
    {1.0, "1.0"},
    {1e-05, "1e-05"},
    {1e16, "1e+16"},
    {123456789012345.67, "123456789012345.67"},
    {0.0001, "0.0001"},
    {-0.0, "-0.0"},
    {0.0, "0.0"},
    {1.5e300, "1.5e+300"},
    {5e-324, "5e-324"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {1e22, "1e+22"},
    {1234567890123456.0, "1234567890123456.0"},
    {12345678901234567.0, "1.2345678901234568e+16"},
    {0.30000000000000004, "0.30000000000000004"},
    {100.0, "100.0"},
    {1e15, "1000000000000000.0"},
    {9999999999999998.0, "9999999999999998.0"},
    {-1.5, "-1.5"},
    {3.141592653589793, "3.141592653589793"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {0.001, "0.001"},
    {123e-20, "1.23e-18"},
    {1.25e-07, "1.25e-07"},
    {4.35, "4.35"},
    {2.5e+16, "2.5e+16"},
    {1e+100, "1e+100"},
};

TEST(PythonJson, FloatsAsPythonRepr) {
    for (const auto& c : kFloatCases) {
        SCOPED_TRACE(c.repr);
        EXPECT_EQ(python_json_dumps(Json(c.value)), c.repr);
        EXPECT_EQ(python_str(Json(c.value)), c.repr);
    }
}

TEST(PythonJson, NonFiniteFloats) {
    const double inf = std::numeric_limits<double>::infinity();
    Json v = Json::array({inf, -inf, std::nan("")});
    EXPECT_EQ(python_json_dumps(v), "[Infinity, -Infinity, NaN]");
    EXPECT_EQ(python_str(v), "[inf, -inf, nan]");
}

TEST(PythonJson, Integers) {
    EXPECT_EQ(python_json_dumps(Json(0)), "0");
    EXPECT_EQ(python_json_dumps(Json(-1)), "-1");
    EXPECT_EQ(python_json_dumps(Json(std::numeric_limits<std::int64_t>::max())),
              "9223372036854775807");
    EXPECT_EQ(python_json_dumps(Json(std::numeric_limits<std::int64_t>::min())),
              "-9223372036854775808");
    EXPECT_EQ(python_json_dumps(Json(std::numeric_limits<std::uint64_t>::max())),
              "18446744073709551615");
    EXPECT_EQ(python_json_dumps(Json::parse("18446744073709551615")), "18446744073709551615");
}

struct StringCase {
    std::string raw;
    std::string ascii;
    std::string utf8;
};

const StringCase kStringCases[] = {
    {"plain"s, "\"plain\""s, "\"plain\""s},
    {""s, "\"\""s, "\"\""s},
    {"caf\303\251"s, "\"caf\\u00e9\""s, "\"caf\303\251\""s},
    {"\342\202\254"s, "\"\\u20ac\""s, "\"\342\202\254\""s},
    {"\360\237\230\200 grin"s, "\"\\ud83d\\ude00 grin\""s, "\"\360\237\230\200 grin\""s},
    {"\342\200\250"s, "\"\\u2028\""s, "\"\342\200\250\""s},
    {"\177"s, "\"\\u007f\""s, "\"\177\""s},
    {"\000\001\037"s, "\"\\u0000\\u0001\\u001f\""s, "\"\\u0000\\u0001\\u001f\""s},
    {"\010\014\n\r\t"s, "\"\\b\\f\\n\\r\\t\""s, "\"\\b\\f\\n\\r\\t\""s},
    {"\"\\/"s, "\"\\\"\\\\/\""s, "\"\\\"\\\\/\""s},
    {"\357\273\277"s, "\"\\ufeff\""s, "\"\357\273\277\""s},
    {"\364\217\277\277"s, "\"\\udbff\\udfff\""s, "\"\364\217\277\277\""s},
    {"bad \377 byte"s, "\"bad \\ufffd byte\""s, "\"bad \357\277\275 byte\""s},
    {"\355\240\200"s, "\"\\ufffd\\ufffd\\ufffd\""s, "\"\357\277\275\357\277\275\357\277\275\""s},
    {"\341\200a"s, "\"\\ufffda\""s, "\"\357\277\275a\""s},
    {"\360\220\200"s, "\"\\ufffd\""s, "\"\357\277\275\""s},
    {"\300\257"s, "\"\\ufffd\\ufffd\""s, "\"\357\277\275\357\277\275\""s},
    {"\340\200\200"s, "\"\\ufffd\\ufffd\\ufffd\""s, "\"\357\277\275\357\277\275\357\277\275\""s},
    {"trunc \342\202"s, "\"trunc \\ufffd\""s, "\"trunc \357\277\275\""s},
    {"\364\220\200\200"s, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""s,
     "\"\357\277\275\357\277\275\357\277\275\357\277\275\""s},
    {"ok \303\251 \200 end"s, "\"ok \\u00e9 \\ufffd end\""s, "\"ok \303\251 \357\277\275 end\""s},
};

TEST(PythonJson, StringEscapingAndInvalidUtf8) {
    for (const auto& c : kStringCases) {
        SCOPED_TRACE(c.ascii);
        EXPECT_EQ(python_json_dumps(Json(c.raw)), c.ascii);
        EXPECT_EQ(python_json_dumps(Json(c.raw), /*ensure_ascii=*/false), c.utf8);
    }
}

TEST(PythonJson, NestedKeepsKeyOrderAndSeparators) {
    const Json v = Json::parse(
        "{\"b\": [1, {\"c\": null}], \"a\": true, \"z\": {}, \"e\": [], \"s\": \"x\", \"f\": "
        "false, \"n\": -2.5, \"u\": \"\\u00e9\\ud83d\\ude00\"}");
    EXPECT_EQ(python_json_dumps(v),
              "{\"b\": [1, {\"c\": null}], \"a\": true, \"z\": {}, \"e\": [], \"s\": \"x\", \"f\": "
              "false, \"n\": -2.5, \"u\": \"\\u00e9\\ud83d\\ude00\"}");
    EXPECT_EQ(python_json_dumps(v, false),
              "{\"b\": [1, {\"c\": null}], \"a\": true, \"z\": {}, \"e\": [], \"s\": \"x\", \"f\": "
              "false, \"n\": -2.5, \"u\": \"\303\251\360\237\230\200\"}");
}

TEST(PythonJson, KeysAreEscapedToo) {
    Json v = Json::object();
    v["\xc3\xa9\n"] = "x";
    EXPECT_EQ(python_json_dumps(v), "{\"\\u00e9\\n\": \"x\"}");
    EXPECT_EQ(python_json_dumps(v, false), "{\"\303\251\\n\": \"x\"}");
}

TEST(PythonJson, EmptyContainersAndLiterals) {
    EXPECT_EQ(python_json_dumps(Json::object()), "{}");
    EXPECT_EQ(python_json_dumps(Json::array()), "[]");
    EXPECT_EQ(python_json_dumps(Json(nullptr)), "null");
    EXPECT_EQ(python_json_dumps(Json(true)), "true");
    EXPECT_EQ(python_json_dumps(Json(false)), "false");
}

TEST(PythonJson, DumpAppendsToExistingText) {
    std::string out = "prefix:";
    python_json_dump(Json::array({1, "a"}), out);
    python_json_dump(Json("\xc3\xa9"), out, false);
    EXPECT_EQ(out, "prefix:[1, \"a\"]\"\xc3\xa9\"");
}

TEST(PythonJson, LargeStringWithEscapesIsExact) {
    std::string raw;
    std::string want = "\"";
    for (int i = 0; i < 100000; ++i) {
        raw += "ab\"\xe2\x82\xac\n";
        want += "ab\\\"\\u20ac\\n";
    }
    want += "\"";
    EXPECT_EQ(python_json_dumps(Json(raw)), want);
}

struct StrCase {
    const char* json;
    std::string str;
};

const StrCase kStrCases[] = {
    {"true", "True"s},
    {"false", "False"s},
    {"null", "None"s},
    {"1", "1"s},
    {"-5", "-5"s},
    {"1.0", "1.0"s},
    {"1e16", "1e+16"s},
    {"\"abc\"", "abc"s},
    {"[]", "[]"s},
    {"{}", "{}"s},
    {"[\"a\", 1, true, null, 1.5]", "['a', 1, True, None, 1.5]"s},
    {"{\"k\": \"v\", \"n\": [1, {\"x\": \"it's\"}]}", "{'k': 'v', 'n': [1, {'x': \"it's\"}]}"s},
    {"18446744073709551615", "18446744073709551615"s},
    {"-9223372036854775808", "-9223372036854775808"s},
    {"\"caf\\u00e9 \\u0000\"", "caf\303\251 \000"s},
    {"{\"\303\251\": [\"\\u200b\", \"\\u00a0\", \"\\ud83d\\ude00\", \"\\udb40\\udc01\", "
     "\"\\u00ad\", \"\\u0085\", \"\\u0378\", \"\\u3000\", \"\\ue000\"]}",
     "{'\303\251': ['\\u200b', '\\xa0', '\360\237\230\200', '\\U000e0001', '\\xad', '\\x85', '\\u0378', '\\u3000', '\\ue000']}"s},
    {"[\"it's\", \"say \\\"hi\\\"\", \"both ' and \\\"\", \"tab\\there\", "
     "\"\\u0000\\u001f\\u007f\", \"back\\\\slash\", \"nl\\ncr\\r\"]",
     "[\"it's\", 'say \"hi\"', 'both \\' and \"', 'tab\\there', '\\x00\\x1f\\x7f', 'back\\\\slash', 'nl\\ncr\\r']"s},
};

TEST(PythonStr, MatchesPythonStrOfLoadedValue) {
    for (const auto& c : kStrCases) {
        SCOPED_TRACE(c.json);
        EXPECT_EQ(python_str(Json::parse(c.json)), c.str);
    }
}

TEST(PythonStr, TopLevelStringIsUnchangedEvenIfInvalidUtf8) {
    EXPECT_EQ(python_str(Json("x\xffy")), "x\xffy");
    EXPECT_EQ(python_str(Json::array({"x\xffy"})), "['x\357\277\275y']");
}

}  // namespace
}  // namespace arunner::util
