// src/config/yaml_to_json.cpp: YAML read as PyYAML's safe_load builds it, and what env files in
// YAML give once loaded. Expected values were produced by Debian's /usr/bin/python3 (3.11) with
// PyYAML 6.0: [(str(k), str(v)) for k, v in yaml.safe_load(text).items()].

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/env_file.hpp"
#include "support/temp_dir.hpp"

namespace arunner::config {
namespace {

using Json = nlohmann::ordered_json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// Loads `content` from a real file as env/settings would be.
Result<std::optional<Json>> load_text(const std::string& content) {
    testing::TempDir dir;
    std::filesystem::create_directory(dir / "env");
    std::ofstream(dir / "env/settings", std::ios::binary) << content;
    return load_mapping_file(dir.path(), "env/settings");
}

Pairs stringified(const std::string& content) {
    auto loaded = load_text(content);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    if (!loaded.ok() || !loaded->has_value()) {
        return {};
    }
    return stringify_mapping(**loaded);
}

const char kScalarsYaml[] =
    "n1: ~\n"
    "n2: null\n"
    "n3: Null\n"
    "n4: NULL\n"
    "n5:\n"
    "b1: yes\n"
    "b2: No\n"
    "b3: TRUE\n"
    "b4: off\n"
    "b5: On\n"
    "b6: y\n"
    "b7: n\n"
    "b8: tRUE\n"
    "i1: 42\n"
    "i2: -17\n"
    "i3: 1_000\n"
    "i4: 0o17\n"
    "i5: 017\n"
    "i6: 0x1F\n"
    "i7: 0b1010\n"
    "i8: 1:30\n"
    "i9: +5\n"
    "i10: 0\n"
    "i11: 99999999999999999999\n"
    "i12: -0x_1\n"
    "i13: 0X1F\n"
    "i14: 190:20:30\n"
    "i15: 09\n"
    "i16: -0\n"
    "i17: 1:60\n"
    "f1: 1.5\n"
    "f2: 1e3\n"
    "f3: 1.0e3\n"
    "f4: 1.0e+3\n"
    "f5: .5\n"
    "f6: -.inf\n"
    "f7: .Inf\n"
    "f8: .NaN\n"
    "f9: 1:30.5\n"
    "f10: 1_000.5\n"
    "f11: 6.8523015e+5\n"
    "f12: +1.\n"
    "f13: -.5\n"
    "f14: 3.0\n"
    "f15: 1.e-3\n"
    "f16: 0.1\n"
    "s1: \"42\"\n"
    "s2: 'yes'\n"
    "s3: !!str 3.5\n"
    "s4: plain text\n"
    "s5: \"quoted: colon\"\n"
    "s6: |\n"
    "  block\n"
    "  text\n"
    "s7: 2001-12-14\n"
    "s8: 'null'\n"
    "s9: \"\"\n"
    "s10: !!str\n"
    "t1: !!int \"42\"\n"
    "t2: !!float \"3\"\n"
    "t3: !!bool \"YES\"\n"
    "t4: !!int 0o17\n"
    "t5: !!null \"\"\n"
    "t6: !!float 1e3\n"
    "t7: !!int 1:30\n"
    "l1: [1, \"a\", true, ~, 2.5, \"it's\"]\n"
    "m1: {a: 1, b: [x, y], c: {d: null}}\n"
    "1: int key\n"
    "2.5: float key\n"
    "false: bool key\n"
    "~: null key\n"
    "\"quoted\": k\n"
    "'007': leading zero string key\n"
    "007: octal key\n";

TEST(YamlToJson, PlainScalarsFollowPyYamlSafeLoad) {
    const Pairs expected = {
        {"n1", "None"},
        {"n2", "None"},
        {"n3", "None"},
        {"n4", "None"},
        {"n5", "None"},
        {"b1", "True"},
        {"b2", "False"},
        {"b3", "True"},
        {"b4", "False"},
        {"b5", "True"},
        {"b6", "y"},
        {"b7", "n"},
        {"b8", "tRUE"},
        {"i1", "42"},
        {"i2", "-17"},
        {"i3", "1000"},
        {"i4", "0o17"},
        {"i5", "15"},
        {"i6", "31"},
        {"i7", "10"},
        {"i8", "90"},
        {"i9", "5"},
        {"i10", "0"},
        {"i11", "99999999999999999999"},
        {"i12", "-1"},
        {"i13", "0X1F"},
        {"i14", "685230"},
        {"i15", "09"},
        {"i16", "0"},
        {"i17", "1:60"},
        {"f1", "1.5"},
        {"f2", "1e3"},
        {"f3", "1.0e3"},
        {"f4", "1000.0"},
        {"f5", "0.5"},
        {"f6", "-inf"},
        {"f7", "inf"},
        {"f8", "nan"},
        {"f9", "90.5"},
        {"f10", "1000.5"},
        {"f11", "685230.15"},
        {"f12", "1.0"},
        {"f13", "-.5"},
        {"f14", "3.0"},
        {"f15", "0.001"},
        {"f16", "0.1"},
        {"s1", "42"},
        {"s2", "yes"},
        {"s3", "3.5"},
        {"s4", "plain text"},
        {"s5", "quoted: colon"},
        {"s6", "block\ntext\n"},
        {"s7", "2001-12-14"},
        {"s8", "null"},
        {"s9", ""},
        {"s10", ""},
        {"t1", "42"},
        {"t2", "3.0"},
        {"t3", "True"},
        {"t4", "15"},
        {"t5", "None"},
        {"t6", "1000.0"},
        {"t7", "90"},
        {"l1", "[1, 'a', True, None, 2.5, \"it's\"]"},
        {"m1", "{'a': 1, 'b': ['x', 'y'], 'c': {'d': None}}"},
        {"1", "int key"},
        {"2.5", "float key"},
        {"False", "bool key"},
        {"None", "null key"},
        {"quoted", "k"},
        {"007", "leading zero string key"},
        {"7", "octal key"},
    };
    EXPECT_EQ(stringified(kScalarsYaml), expected);
}

TEST(YamlToJson, ScalarTypes) {
    auto v = yaml_to_json(kScalarsYaml, "test");
    ASSERT_TRUE(v.ok()) << v.error().message;
    const Json& j = *v;
    EXPECT_TRUE(j["n1"].is_null());
    EXPECT_TRUE(j["n5"].is_null());
    EXPECT_EQ(j["b1"], Json(true));
    EXPECT_EQ(j["b6"], Json("y"));
    ASSERT_TRUE(j["i1"].is_number_integer());
    EXPECT_EQ(j["i1"].get<int>(), 42);
    EXPECT_EQ(j["i6"].get<int>(), 31);
    EXPECT_EQ(j["i4"], Json("0o17"));
    EXPECT_EQ(j["i11"], Json("99999999999999999999"));  // beyond 64 bits: its decimal text
    ASSERT_TRUE(j["f1"].is_number_float());
    EXPECT_EQ(j["f1"].get<double>(), 1.5);
    EXPECT_EQ(j["f2"], Json("1e3"));
    EXPECT_TRUE(std::isinf(j["f6"].get<double>()) && j["f6"].get<double>() < 0);
    EXPECT_TRUE(std::isnan(j["f8"].get<double>()));
    EXPECT_EQ(j["s1"], Json("42"));
    EXPECT_EQ(j["s2"], Json("yes"));
    EXPECT_EQ(j["s3"], Json("3.5"));
    EXPECT_EQ(j["s8"], Json("null"));
    EXPECT_EQ(j["t1"], Json(42));
    EXPECT_EQ(j["t2"], Json(3.0));
    EXPECT_EQ(j["l1"], Json::parse(R"([1, "a", true, null, 2.5, "it's"])"));
}

TEST(YamlToJson, MergeKeysAndDuplicateKeys) {
    const Pairs expected = {
        {"base", "{'a': 1, 'b': 2}"},
        {"other", "{'b': 3, 'c': 4}"},
        {"m1", "{'a': 1, 'b': 2, 'c': 5}"},
        {"m2", "{'b': 2, 'c': 4, 'a': 1, 'd': 6}"},
        {"m3", "{'a': 9, 'b': 2, 'x': 0}"},
        {"m4", "{'<<': 'not a merge'}"},
        {"dup", "second"},
    };
    EXPECT_EQ(stringified("base: &base\n"
                          "  a: 1\n"
                          "  b: 2\n"
                          "other: &other\n"
                          "  b: 3\n"
                          "  c: 4\n"
                          "m1:\n"
                          "  <<: *base\n"
                          "  c: 5\n"
                          "m2:\n"
                          "  <<: [*base, *other]\n"
                          "  d: 6\n"
                          "m3:\n"
                          "  x: 0\n"
                          "  <<: *base\n"
                          "  a: 9\n"
                          "m4:\n"
                          "  \"<<\": not a merge\n"
                          "dup: first\n"
                          "dup: second\n"),
              expected);
}

TEST(YamlToJson, IntegerEdgeCases) {
    auto v = yaml_to_json(
        "a: 9223372036854775807\nb: -9223372036854775808\nc: 18446744073709551615\n"
        "d: -9223372036854775809\ne: 0x_\n",
        "x");
    ASSERT_FALSE(v.ok());  // 0x_ matches the int pattern but int('', 16) fails, as in PyYAML
    EXPECT_EQ(v.error().message,
              "x: invalid YAML at line 5, column 4: invalid literal for int(): '0x_'");
    v = yaml_to_json(
        "a: 9223372036854775807\nb: -9223372036854775808\nc: 18446744073709551615\n"
        "d: -9223372036854775809\n",
        "x");
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ((*v)["a"].get<std::int64_t>(), 9223372036854775807LL);
    EXPECT_EQ((*v)["b"].get<std::int64_t>(), -9223372036854775807LL - 1);
    EXPECT_EQ((*v)["c"].get<std::uint64_t>(), 18446744073709551615ULL);
    EXPECT_EQ((*v)["d"], Json("-9223372036854775809"));
}

TEST(YamlToJson, EmptyDocumentsAreNull) {
    for (const char* text : {"", "---\n", "# only a comment\n", "~\n"}) {
        SCOPED_TRACE(text);
        auto v = yaml_to_json(text, "x");
        ASSERT_TRUE(v.ok()) << v.error().message;
        EXPECT_TRUE(v->is_null());
    }
}

TEST(YamlToJson, ErrorsNameSourceAndLine) {
    auto v = yaml_to_json("a: 1\nb: 2\nc: d: e\n", "env/settings");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message.rfind("env/settings: invalid YAML at line 3, column ", 0), 0u)
        << v.error().message;

    v = yaml_to_json("a: [1\nb: 2", "env/envvars");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message,
              "env/envvars: invalid YAML at line 2, column 2: end of sequence flow not found");

    v = yaml_to_json("a: 1\n---\nb: 2\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("expected a single document in the stream"),
              std::string::npos);

    v = yaml_to_json("a: !foo x\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message,
              "f: invalid YAML at line 1, column 4: could not determine a constructor for the tag "
              "'!foo'");

    v = yaml_to_json("a: =\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("'tag:yaml.org,2002:value'"), std::string::npos);

    v = yaml_to_json("? [1]\n: 2\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("found unhashable key"), std::string::npos);

    v = yaml_to_json("<<: 1\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("expected a mapping or list of mappings for merging"),
              std::string::npos);
}

TEST(YamlToJson, EmptyFlowEntriesAreRefusedLikePyYaml) {
    // yaml-cpp would read these as nulls; PyYAML says "expected the node content".
    for (const char* text : {"[a, , b]", "{\"a\": 1,,}", "{: x}", "k: [1,,2]"}) {
        SCOPED_TRACE(text);
        auto v = yaml_to_json(text, "f");
        ASSERT_FALSE(v.ok());
        EXPECT_NE(v.error().message.find("expected the node content"), std::string::npos)
            << v.error().message;
    }
    auto v = yaml_to_json("{a: , b: 1}", "f");  // an empty value is fine
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, Json::parse(R"({"a": null, "b": 1})"));
}

TEST(YamlToJson, NonDecimalIntegersBeyond64BitsAreRefused) {
    auto v = yaml_to_json("k: 0xffffffffffffffffffff\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message,
              "f: invalid YAML at line 1, column 4: integer too large: '0xffffffffffffffffffff'");
    v = yaml_to_json("k: 0xffffffffffffffff\n", "f");
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ((*v)["k"].get<std::uint64_t>(), 18446744073709551615ULL);
}

// fuzz/crashes-found/env_file_fuzz-yaml-loadall-hang.bin: a file holding only `,` made
// YAML::LoadAll add null documents forever (yaml-cpp #1040).
TEST(YamlToJson, LoneFlowEntryIsAnErrorNotAHang) {
    for (const char* text : {",", ",\n", " , "}) {
        SCOPED_TRACE(text);
        auto v = yaml_to_json(text, "env/settings");
        ASSERT_FALSE(v.ok());
        EXPECT_EQ(v.error().message.rfind("env/settings: invalid YAML", 0), 0u)
            << v.error().message;
    }
    auto loaded = load_text(",");
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().message.rfind("env/settings: invalid YAML", 0), 0u)
        << loaded.error().message;
}

TEST(YamlToJson, SecondDocumentIsReportedWhereItStarts) {
    auto v = yaml_to_json("a: 1\n---\nb: 2\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message,
              "f: invalid YAML at line 3, column 1: expected a single document in the stream");
    v = yaml_to_json("--- 1\n--- 2\n--- 3\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("expected a single document in the stream"),
              std::string::npos);
    v = yaml_to_json("--- {a: 1}\n...\n", "f");  // one document with an end marker is fine
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, Json::parse(R"({"a": 1})"));
}

TEST(YamlToJson, RecursiveAliasIsAnErrorNotACrash) {
    auto v = yaml_to_json("a: &x [1, *x]\n", "f");
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("nesting too deep"), std::string::npos);
}

// Billion laughs with long strings: few nodes (about 10^4 after expansion) but each alias copies
// a 1 MB string, so expanding it would need about 10 GB. Refused by the byte budget.
TEST(YamlToJsonBounds, AliasesOfLongStringsAreBudgetedInBytes) {
    std::string text = "a: &a \"" + std::string(1 << 20, 'x') + "\"\nb: &b [";
    for (int i = 0; i < 100; ++i) {
        text += i ? ",*a" : "*a";
    }
    text += "]\nc: [";
    for (int i = 0; i < 100; ++i) {
        text += i ? ",*b" : "*b";
    }
    text += "]\n";
    auto loaded = load_text(text);
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message.find("env/settings: invalid YAML"), std::string::npos)
        << loaded.error().message;
    EXPECT_NE(loaded.error().message.find("aliases repeated too often"), std::string::npos)
        << loaded.error().message;
}

// The classic: nine levels of ten aliases each (10^9 leaves).
TEST(YamlToJsonBounds, ClassicBillionLaughsIsRefused) {
    std::string text = "l0: &l0 \"lol\"\n";
    for (int level = 1; level <= 9; ++level) {
        std::string prev = "*l" + std::to_string(level - 1);
        text += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
        for (int i = 0; i < 10; ++i) {
            text += (i ? "," : "") + prev;
        }
        text += "]\n";
    }
    auto loaded = load_text(text);
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message.find("expands to more than"), std::string::npos)
        << loaded.error().message;
}

// Merges of merges copy pairs, not nodes: they are counted as well.
TEST(YamlToJsonBounds, NestedMergeKeysAreBudgeted) {
    std::string text = "m0: &m0 {k" + std::string(1000, 'k') + ": 1}\n";
    for (int level = 1; level <= 30; ++level) {
        std::string prev = "*m" + std::to_string(level - 1);
        text += "m" + std::to_string(level) + ": &m" + std::to_string(level);
        text += " {<<: [" + prev + ", " + prev + "], x" + std::to_string(level) + ": 1}\n";
    }
    auto loaded = load_text(text);
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message.find("expands to more than"), std::string::npos)
        << loaded.error().message;
}

TEST(YamlToJsonBounds, ModestAliasesStillWork) {
    auto loaded = load_text("base: &b {a: 1, b: [x, y]}\none: *b\ntwo: {<<: *b, c: 3}\n");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ((**loaded)["two"]["c"], 3);
    EXPECT_EQ((**loaded)["one"]["b"][1], "y");
}

}  // namespace
}  // namespace arunner::config
