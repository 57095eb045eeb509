// Expected values were produced by Debian's /usr/bin/python3 (3.11) with PyYAML 6.0:
// [(str(k), str(v)) for k, v in yaml.safe_load(text).items()], and json.loads for JSON.

#include "config/env_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace arunner::config {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

/// A fresh directory under the system temp dir, removed with its contents at scope exit.
class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "env_file_test.XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) {
            path_ = pattern;
        }
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path write(const std::string& name, const std::string& content) const {
        fs::path p = path_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }

  private:
    fs::path path_;
};

// Loads `content` from a real file as env/settings would be.
Result<std::optional<Json>> load_text(const std::string& content) {
    TempDir dir;
    fs::create_directory(dir.path() / "env");
    dir.write("env/settings", content);
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

TEST(EnvFileMapping, JsonKeepsKeyOrderAndLastDuplicateWins) {
    EXPECT_EQ(stringified("{\"a\": 1, \"b\": 2, \"a\": 3}"), (Pairs{{"a", "3"}, {"b", "2"}}));
    EXPECT_EQ(stringified("{\"z\": 1, \"a\": 2, \"m\": 3}"),
              (Pairs{{"z", "1"}, {"a", "2"}, {"m", "3"}}));
}

TEST(EnvFileMapping, JsonValuesStringifiedLikePython) {
    EXPECT_EQ(stringified(
                  "{\"A\": true, \"B\": 1, \"C\": null, \"D\": [1, \"x\"], \"E\": {\"k\": \"v\"}, "
                  "\"F\": 1.5, \"G\": \"s\", \"H\": 1e300, \"I\": -0.0, \"J\": \"caf\\u00e9\"}"),
              (Pairs{{"A", "True"},
                     {"B", "1"},
                     {"C", "None"},
                     {"D", "[1, 'x']"},
                     {"E", "{'k': 'v'}"},
                     {"F", "1.5"},
                     {"G", "s"},
                     {"H", "1e+300"},
                     {"I", "-0.0"},
                     {"J", "caf\303\251"}}));
}

TEST(EnvFileMapping, YamlKeyOrderKept) {
    EXPECT_EQ(stringified("zeta: 1\nalpha: yes\nmid: [a]\n"),
              (Pairs{{"zeta", "1"}, {"alpha", "True"}, {"mid", "['a']"}}));
}

TEST(EnvFileMapping, MissingEmptyAndNullAreAbsent) {
    TempDir dir;
    auto missing = load_mapping_file(dir.path(), "nope");
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
    dir.write("file", "x");
    auto under_file = load_mapping_file(dir.path(), "file/child");
    ASSERT_TRUE(under_file.ok());
    EXPECT_FALSE(under_file->has_value());
    for (const char* text : {"", "  \n\t\n", "null", "---\n", "# comment\n", "~"}) {
        SCOPED_TRACE(text);
        auto v = load_text(text);
        ASSERT_TRUE(v.ok()) << v.error().message;
        EXPECT_FALSE(v->has_value());
    }
}

TEST(EnvFileMapping, EmptyMappingIsAMapping) {
    auto v = load_text("{}");
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(v->has_value());
    EXPECT_EQ(**v, Json::object());
}

TEST(EnvFileMapping, NonMappingIsAnError) {
    const std::pair<const char*, const char*> cases[] = {
        {"- a\n- b\n", "list"}, {"[]", "list"},      {"just text", "string"},
        {"\"\"", "string"},     {"42", "number"},    {"0", "number"},
        {"1.5", "number"},      {"true", "boolean"}, {"yes", "boolean"}};
    for (const auto& [text, kind] : cases) {
        SCOPED_TRACE(text);
        auto v = load_text(text);
        ASSERT_FALSE(v.ok());
        EXPECT_EQ(v.error().message,
                  std::string("env/settings must be a mapping of keys to values, but it holds a ") +
                      kind);
    }
}

TEST(EnvFileMapping, MalformedJsonReportsJsonPosition) {
    auto v = load_text("{\n  \"a\": 1\n  \"b\": 2\n}");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message.rfind("env/settings: invalid JSON at line 3, column ", 0), 0u)
        << v.error().message;
    EXPECT_NE(v.error().message.find("(byte "), std::string::npos);

    v = load_text("[1, 2,,]");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message.rfind("env/settings: invalid JSON at line 1, column 7", 0), 0u)
        << v.error().message;
}

TEST(EnvFileMapping, MalformedYamlReportsYamlLine) {
    auto v = load_text("a: 1\nb: 2\nc: d: e\n");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message.rfind("env/settings: invalid YAML at line 3, column ", 0), 0u)
        << v.error().message;
}

TEST(EnvFileMapping, InvalidUtf8IsAnError) {
    auto v = load_text("a: ok\nb: \xff\n");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message, "env/settings: not valid UTF-8 (byte 9)");
    EXPECT_EQ(stringified("a: caf\xc3\xa9\n"), (Pairs{{"a", "caf\xc3\xa9"}}));
}

TEST(EnvFileMapping, JsonTypoThatYamlWouldAcceptIsReported) {
    auto v = load_text("{\"a\": 1,,}");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message.rfind("env/settings: invalid JSON at line 1, column 9", 0), 0u)
        << v.error().message;
}

TEST(EnvFileMapping, JsonWithFlowYamlFallback) {
    // Not JSON (single quotes, trailing comma), but a YAML flow mapping.
    EXPECT_EQ(stringified("{'a': 1, b: on,}"), (Pairs{{"a", "1"}, {"b", "True"}}));
}

TEST(EnvFileMapping, DirectoryIsAnError) {
    TempDir dir;
    fs::create_directory(dir.path() / "settings");
    auto v = load_mapping_file(dir.path(), "settings");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message, "cannot read settings: Is a directory");
}

TEST(EnvFileMapping, ReadsAFifoWrittenByAThread) {
    TempDir dir;
    const fs::path fifo = dir.path() / "envvars";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string content;
    Pairs expected;
    for (int i = 0; i < 5000; ++i) {  // well over a pipe buffer
        content += "KEY_" + std::to_string(i) + ": value number " + std::to_string(i) + "\n";
        expected.emplace_back("KEY_" + std::to_string(i), "value number " + std::to_string(i));
    }
    std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << content; });
    auto v = load_mapping_file(dir.path(), "envvars");
    writer.join();
    ASSERT_TRUE(v.ok()) << v.error().message;
    ASSERT_TRUE(v->has_value());
    EXPECT_EQ(stringify_mapping(**v), expected);
}

TEST(EnvFileText, RawBytesMissingAndErrors) {
    TempDir dir;
    const std::string raw("-e 'a b'\r\n\0tail", 15);
    dir.write("cmdline", raw);
    auto text = load_text_file(dir.path(), "cmdline");
    ASSERT_TRUE(text.ok());
    ASSERT_TRUE(text->has_value());
    EXPECT_EQ(**text, raw);

    auto missing = load_text_file(dir.path(), "ssh_key");
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());

    fs::create_directory(dir.path() / "args");
    auto is_dir = load_text_file(dir.path(), "args");
    ASSERT_FALSE(is_dir.ok());
    EXPECT_EQ(is_dir.error().message, "cannot read args: Is a directory");
}

TEST(EnvFileText, OpenFailureOtherThanMissingIsAnError) {
    TempDir dir;
    fs::create_symlink("loop", dir.path() / "loop");
    auto v = load_text_file(dir.path(), "loop");
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().message, "cannot read loop: Too many levels of symbolic links");
    auto m = load_mapping_file(dir.path(), "loop");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().message, "cannot read loop: Too many levels of symbolic links");
}

TEST(EnvFileText, ReadsAFifo) {
    TempDir dir;
    const fs::path fifo = dir.path() / "ssh_key";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string key = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << key; });
    auto v = load_text_file(dir.path(), "ssh_key");
    writer.join();
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(v->has_value());
    EXPECT_EQ(**v, key);
}

TEST(EnvFileStringify, NonObjectGivesNothing) {
    EXPECT_TRUE(stringify_mapping(Json::array({1, 2})).empty());
    EXPECT_EQ(stringify_mapping(Json::parse(R"({"b": false, "a": 1.0})")),
              (Pairs{{"b", "False"}, {"a", "1.0"}}));
}

}  // namespace
}  // namespace arunner::config
