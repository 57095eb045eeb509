// JobOutput: a local run's output becomes events (to the handler, then ART/job_events unless
// the handler says no) and display text (ART/stdout, the console).

#include "runner/job_output.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "support/temp_dir.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

size_t file_count(const fs::path& dir) {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

events::DecoderOptions options() {
    events::DecoderOptions options;
    options.runner_ident = "job";
    options.frame_secret = "0123456789abcdef0123456789abcdef";
    return options;
}

TEST(JobOutput, PlainOutputIsAVerboseEventAndGoesToStdout) {
    testing::TempDir tmp;
    auto dir = artifacts::ArtifactDir::create(tmp / "art");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    ASSERT_TRUE(dir->open_output_files().ok());
    std::vector<std::string> seen;
    std::vector<fs::path> written;
    JobOutput sink(
        *dir, -1, options(),
        [&](nlohmann::ordered_json& event) {
            seen.push_back(event.value("event", ""));
            return true;
        },
        [&](const fs::path& file) { written.push_back(file); });
    sink.on_output(OutputStream::out, "plain ");
    sink.on_output(OutputStream::out, "text\n");
    sink.finish();
    dir->close_output_files();
    EXPECT_FALSE(sink.write_error().has_value());
    EXPECT_EQ(seen, std::vector<std::string>{"verbose"});
    ASSERT_EQ(written.size(), 1u);
    EXPECT_TRUE(fs::exists(written[0]));
    EXPECT_EQ(written[0].parent_path(), dir->job_events_dir());
    EXPECT_EQ(read_text(tmp / "art/stdout"), "plain text\n");
}

TEST(JobOutput, AHandlerSayingNoKeepsTheEventFileUnwritten) {
    testing::TempDir tmp;
    auto dir = artifacts::ArtifactDir::create(tmp / "art");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    int handled = 0;
    JobOutput sink(*dir, -1, options(), [&](nlohmann::ordered_json&) {
        ++handled;
        return false;
    });
    sink.on_output(OutputStream::out, "one\ntwo\n");
    sink.finish();
    EXPECT_EQ(handled, 2);
    EXPECT_EQ(file_count(dir->job_events_dir()), 0u);
}

TEST(JobOutput, InjectedTextReadsAsTheChildsOutputAndReachesTheConsole) {
    testing::TempDir tmp;
    auto dir = artifacts::ArtifactDir::create(tmp / "art");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    ASSERT_TRUE(dir->open_output_files().ok());
    int console[2];
    ASSERT_EQ(::pipe(console), 0);
    JobOutput sink(*dir, console[1], options(), {});
    sink.inject("The command was not found or was not executable: nope.\n");
    sink.finish();
    dir->close_output_files();
    ::close(console[1]);
    std::string shown;
    char buffer[256];
    ssize_t n = 0;
    while ((n = ::read(console[0], buffer, sizeof buffer)) > 0) {
        shown.append(buffer, static_cast<size_t>(n));
    }
    ::close(console[0]);
    EXPECT_EQ(shown, "The command was not found or was not executable: nope.\n");
    EXPECT_EQ(read_text(tmp / "art/stdout"),
              "The command was not found or was not executable: nope.\n");
    EXPECT_EQ(file_count(dir->job_events_dir()), 1u);
}

}  // namespace
}  // namespace arunner::runner
