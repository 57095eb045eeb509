// What an engine reports while it pulls (src/engine/pull_progress.cpp): both dialects' lines read
// into steps, errors recognised, hostile lines refused with a bound, and the splitter's limit.

#include "engine/pull_progress.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace arunner::engine {
namespace {

TEST(PullProgressLine, DockerApiProgressHasBytesPerLayer) {
    auto line = parse_pull_line(
        R"({"status":"Downloading","progressDetail":{"current":1048576,"total":4194304},)"
        R"("progress":"[==>   ]","id":"a83f8cd6be7a"})");
    ASSERT_TRUE(line.ok()) << line.error().message;
    EXPECT_EQ(line->kind, PullLine::Kind::progress);
    EXPECT_EQ(line->layer, "a83f8cd6be7a");
    EXPECT_EQ(line->status, "Downloading");
    EXPECT_EQ(line->current, 1048576);
    EXPECT_EQ(line->total, 4194304);
}

TEST(PullProgressLine, LibpodStreamNamesTheBlob) {
    auto line = parse_pull_line(
        R"({"stream":"Copying blob sha256:a68f3d3621b970a250144b5c530135ed2a826255659fe014341da6708652b4da\n"})");
    ASSERT_TRUE(line.ok());
    EXPECT_EQ(line->kind, PullLine::Kind::progress);
    EXPECT_EQ(line->status, "Copying blob");
    EXPECT_EQ(line->layer, "a68f3d3621b9");
    EXPECT_FALSE(line->current.has_value());

    auto done = parse_pull_line(R"({"images":["25b94c65d2da"],"id":"25b94c65d2da"})");
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done->kind, PullLine::Kind::done);
    EXPECT_EQ(done->message, "25b94c65d2da");
}

// A blob id is cut at 12 bytes; a character cut there must not leave invalid UTF-8 (found by
// pull_answer_fuzz).
TEST(PullProgressLine, ALayerCutInsideACharacterStaysValidUtf8) {
    auto line = parse_pull_line("{\"stream\":\"Copying blob sha256:a68f3d36id2\u0319970a\"}");
    ASSERT_TRUE(line.ok()) << line.error().message;
    EXPECT_EQ(line->layer, "a68f3d36id2\xef\xbf\xbd");
    auto docker = parse_pull_line(R"({"status":"Downloading","id":"0123456789a\u00e9"})");
    ASSERT_TRUE(docker.ok());
    EXPECT_EQ(docker->layer, "0123456789a\xef\xbf\xbd");
}

TEST(PullProgressLine, ErrorsOfBothDialects) {
    auto docker =
        parse_pull_line(R"({"errorDetail":{"message":"unauthorized: authentication required"}})");
    ASSERT_TRUE(docker.ok());
    EXPECT_EQ(docker->kind, PullLine::Kind::error);
    EXPECT_EQ(docker->message, "unauthorized: authentication required");
    auto libpod = parse_pull_line(R"({"error":"manifest unknown\n"})");
    ASSERT_TRUE(libpod.ok());
    EXPECT_EQ(libpod->kind, PullLine::Kind::error);
    EXPECT_EQ(libpod->message, "manifest unknown");
}

TEST(PullProgressLine, OddFieldsAreIgnoredAndNonObjectsRefused) {
    // Wrong types, negative bytes: nothing to show, no crash.
    auto odd =
        parse_pull_line(R"({"status":7,"id":[1],"progressDetail":{"current":-5,"total":"x"}})");
    ASSERT_TRUE(odd.ok());
    EXPECT_EQ(odd->kind, PullLine::Kind::other);
    auto negative =
        parse_pull_line(R"({"status":"Downloading","id":"x","progressDetail":{"current":-5}})");
    ASSERT_TRUE(negative.ok());
    EXPECT_FALSE(negative->current.has_value());

    for (const char* bad : {"[1,2]", "not json at all", "\"text\"", "{\"status\":"}) {
        auto line = parse_pull_line(bad);
        ASSERT_FALSE(line.ok()) << bad;
        EXPECT_NE(line.error().message.find("not a JSON object"), std::string::npos);
    }
    // The quote of a hostile line is short and valid UTF-8.
    auto hostile = parse_pull_line(std::string(500, '\xff'));
    ASSERT_FALSE(hostile.ok());
    EXPECT_LT(hostile.error().message.size(), 400u);
}

TEST(PullLineSplitter, SplitsAcrossChunksAndBoundsALine) {
    PullLineSplitter splitter;
    std::vector<std::string> lines;
    auto collect = [&](std::string_view line) -> Status {
        lines.emplace_back(line);
        return {};
    };
    ASSERT_TRUE(splitter.feed("{\"a\":1}\n{\"b\"", collect).ok());
    ASSERT_TRUE(splitter.feed(":2}\r\n\n{\"c\":3}", collect).ok());
    EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}\r"}));
    EXPECT_EQ(splitter.take_rest(), "{\"c\":3}");

    PullLineSplitter bounded;
    std::string chunk(kMaxPullLineBytes / 2, 'x');
    ASSERT_TRUE(bounded.feed(chunk, collect).ok());
    auto fed = bounded.feed(chunk + "xx", collect);
    ASSERT_FALSE(fed.ok());
    EXPECT_NE(fed.error().message.find("longer than 64 KiB"), std::string::npos);
}

}  // namespace
}  // namespace arunner::engine
