// Forged frames (tests/fixtures/frames) through --process-isolation on the engine under test:
// inside the container the secret reaches the command's init through a FIFO and ansible through
// a pipe its start-up hook empties before any of ansible's code runs (docs/frames.md). The run
// gives the local run's events and stdout, writes nothing outside the private data dir, and records
// the secret in no artifact.

#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

/// Event and task names of the events that are not verbose lines.
std::vector<std::string> sequence(const std::vector<Json>& events) {
    std::vector<std::string> out;
    for (const Json& e : events) {
        if (e.value("event", "") == "verbose") {
            continue;
        }
        const Json& data = e.contains("event_data") ? e["event_data"] : Json::object();
        out.push_back(e.value("event", "") + " | " + data.value("task", ""));
    }
    return out;
}

/// True when `text` holds "arunner:" followed by 32 lowercase hex digits and ':'.
bool holds_a_secret_frame(const std::string& text) {
    for (size_t at = text.find("arunner:"); at != std::string::npos;
         at = text.find("arunner:", at + 1)) {
        std::string after = text.substr(at + 8, 33);
        if (after.size() == 33 && after[32] == ':' &&
            after.find_first_not_of("0123456789abcdef") == 32) {
            return true;
        }
    }
    return false;
}

class FramesIsolation : public EngineSuite {};

TEST_F(FramesIsolation, ForgedFramesInAContainerArePlainOutput) {
    TempDir tmp;
    fs::path pdd = copy_fixture("frames", tmp);
    auto local = run_command(
        {ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml", "--ident", "local", "-q"});
    const std::string ident = "t" + std::to_string(::getpid()) + "_frames";
    auto contained = run_command(container_run(pdd, ident, "--process-isolation", {"-q"}));
    fs::path art = pdd / "artifacts" / ident;
    EXPECT_EQ(contained.exit_code, 0) << contained.err;
    EXPECT_EQ(local.exit_code, 0) << local.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    auto events = load_job_events(art);
    EXPECT_EQ(sequence(events), sequence(load_job_events(pdd / "artifacts/local")));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["event"], "playbook_on_stats");

    for (const auto& entry : fs::directory_iterator(tmp.path())) {
        EXPECT_EQ(entry.path().filename(), "frames");
    }
    for (const auto& entry : fs::recursive_directory_iterator(pdd)) {
        EXPECT_EQ(entry.path().string().find("OUTSIDE"), std::string::npos) << entry.path();
    }
    static const std::regex well_named(
        R"(^[0-9]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_[0-9]+)?\.json$)");
    for (const auto& entry : fs::directory_iterator(art / "job_events")) {
        EXPECT_TRUE(std::regex_match(entry.path().filename().string(), well_named)) << entry.path();
    }
    std::string artifacts = all_text_under(art);
    EXPECT_FALSE(holds_a_secret_frame(artifacts));
    // (The fixture's task names the variables in its command, so only these two files are
    // searched for them.)
    for (const char* file : {"command", "env.list"}) {
        EXPECT_EQ(read_text(art / file).find("ARUNNER_FRAME"), std::string::npos) << file;
    }
}

/// True when some event's event_data says `forged`.
bool holds_a_forged_event(const std::vector<Json>& events) {
    for (const Json& e : events) {
        if (e.contains("event_data") && e["event_data"].is_object() &&
            e["event_data"].contains("forged")) {
            return true;
        }
    }
    return false;
}

// An inventory script, the first of the job's code to run, reads every environment, command line
// and descriptor it can open in the container (tests/fixtures/secret_hunt) and the play tries all
// it found as the secret: no forged event. (With the secret in the container's environment, as
// before, /proc/1/environ gave it away.)
TEST_F(FramesIsolation, NothingTheJobStartsFindsTheSecret) {
    TempDir tmp;
    fs::path pdd = copy_fixture("secret_hunt", tmp);
    const std::string ident = "t" + std::to_string(::getpid()) + "_hunt";
    auto run = run_command(container_run(pdd, ident, "--process-isolation", {"-q"}));
    fs::path art = pdd / "artifacts" / ident;
    EXPECT_EQ(run.exit_code, 0) << run.err << read_text(art / "stdout");
    EXPECT_EQ(read_text(art / "status"), "successful");
    auto hunt = Json::parse(read_text(pdd / "project/hunt.json"));
    EXPECT_TRUE(hunt["read_environ"].get<bool>()) << hunt.dump();
    auto events = load_job_events(art);
    EXPECT_FALSE(holds_a_forged_event(events));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["event"], "playbook_on_stats");
    // The FIFO the secret came through is gone.
    EXPECT_FALSE(fs::exists(fs::symlink_status(art / "frame_secret")));
}

}  // namespace
}  // namespace arunner::testing
