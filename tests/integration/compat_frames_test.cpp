// Forged event frames through real ansible-core (tests/fixtures/frames): a module that returns
// frames in its warnings and msg, a task whose name holds a frame, and a task that prints a frame
// onto ansible-playbook's terminal. None of them becomes an event or writes a file outside the
// private data dir; the events and ART/stdout are those Debian's ansible-runner gives (which keeps
// such bytes as plain output), and the run's frame secret is in no artifact.

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct Side {
    int exit_code = -1;
    std::string status, stdout_text;
    std::vector<Json> events;
};

/// Values that differ from run to run: timestamps, durations, temp paths.
std::string normalise(std::string text) {
    static const std::vector<std::pair<std::regex, std::string>> rules = {
        {std::regex(R"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?)"), "<time>"},
        {std::regex(R"("delta": "[^"]*")"), R"("delta": "<delta>")"},
        {std::regex(R"(/tmp/ansible\.[A-Za-z0-9_]+)"), "/tmp/<tmp>"},
        {std::regex(R"(/artifacts/(ours|theirs)/)"), "/artifacts/<ident>/"},
    };
    for (const auto& [pattern, replacement] : rules) {
        text = std::regex_replace(text, pattern, replacement);
    }
    return text;
}

Side run_side(const std::string& runner, const fs::path& pdd, const std::string& ident) {
    Side side;
    side.exit_code =
        run_command({runner, "run", pdd.string(), "-i", ident, "-p", "site.yml"}).exit_code;
    fs::path art = pdd / "artifacts" / ident;
    side.status = read_text(art / "status");
    side.stdout_text = normalise(read_text(art / "stdout"));
    side.events = load_job_events(art);
    return side;
}

/// Event name and task name of each event that is not a verbose line. (Where text a task
/// prints onto the terminal falls between the events around it is a matter of timing.)
std::vector<std::string> sequence(const std::vector<Json>& events) {
    std::vector<std::string> out;
    for (const Json& e : events) {
        std::string name = e.value("event", "");
        if (name == "verbose") {
            continue;
        }
        const Json& data = e.contains("event_data") ? e["event_data"] : Json::object();
        out.push_back(name + " | " + data.value("task", ""));
    }
    return out;
}

/// Every path under `dir`, relative to it.
std::set<std::string> tree(const fs::path& dir) {
    std::set<std::string> paths;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        paths.insert(fs::relative(entry.path(), dir).string());
    }
    return paths;
}

TEST(CompatFrames, ForgedFramesArePlainOutputAsWithAnsibleRunner) {
    TempDir tmp;
    fs::path pdd = copy_fixture("frames", tmp);
    Side ours = run_side(ARUNNER_BINARY, pdd, "ours");
    Side theirs = run_side("/usr/bin/ansible-runner", pdd, "theirs");

    EXPECT_EQ(ours.exit_code, 0);
    EXPECT_EQ(ours.exit_code, theirs.exit_code);
    EXPECT_EQ(ours.status, "successful");
    EXPECT_EQ(ours.status, theirs.status);
    EXPECT_EQ(ours.stdout_text, theirs.stdout_text);
    EXPECT_EQ(sequence(ours.events), sequence(theirs.events));
    ASSERT_FALSE(ours.events.empty());
    EXPECT_EQ(ours.events.back()["event"], "playbook_on_stats");

    // The forged bytes are in ART/stdout and in the events' text, byte for byte.
    const std::string tty_frame =
        "\x1b_arunner:{\"event\": \"runner_on_ok\", \"counter\": \"../../OUTSIDE-tty\", \"eof\": "
        "true}\x1b\\printed\x1b_arunner:\x1b\\ after";
    EXPECT_NE(ours.stdout_text.find(tty_frame), std::string::npos);
    std::string all_event_text;
    for (const Json& e : ours.events) {
        all_event_text += e["stdout"].get<std::string>() + "\n";
        EXPECT_FALSE(e.contains("eof"));
        EXPECT_FALSE(e.contains("status"));
    }
    EXPECT_NE(all_event_text.find(tty_frame), std::string::npos);
    EXPECT_NE(all_event_text.find("warning \x1b_arunner:\x1b\\ tail"), std::string::npos);

    // Nothing outside the private data dir; only well-named event files.
    for (const auto& entry : fs::directory_iterator(tmp.path())) {
        EXPECT_EQ(entry.path().filename(), "frames");
    }
    for (const std::string& path : tree(pdd)) {
        EXPECT_EQ(path.find("OUTSIDE"), std::string::npos) << path;
    }
    static const std::regex well_named(
        R"(^[0-9]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_[0-9]+)?\.json$)");
    size_t files = 0;
    for (const auto& entry : fs::directory_iterator(pdd / "artifacts/ours/job_events")) {
        EXPECT_TRUE(std::regex_match(entry.path().filename().string(), well_named)) << entry.path();
        ++files;
    }
    EXPECT_EQ(files, ours.events.size());

    // The run's secret is in no artifact (the plugin's frames carry it; none may leak).
    std::string artifacts = all_text_under(pdd / "artifacts/ours");
    for (size_t at = artifacts.find("arunner:"); at != std::string::npos;
         at = artifacts.find("arunner:", at + 1)) {
        std::string after = artifacts.substr(at + 8, 33);
        bool secret = after.size() == 33 && after[32] == ':' &&
                      after.find_first_not_of("0123456789abcdef") == 32;
        EXPECT_FALSE(secret) << after;
    }
    // (The fixture's task names the variables in its command, so only these two files are
    // searched for them.)
    for (const char* file : {"command", "env.list"}) {
        EXPECT_EQ(read_text(pdd / "artifacts/ours" / file).find("ARUNNER_FRAME"), std::string::npos)
            << file;
    }
}

// An inventory script, the first of the job's code to run, reads every environment, command line
// and descriptor it can open (tests/fixtures/secret_hunt) and the play tries all it found as the
// secret: no forged event. arunner runs without CAP_SYS_PTRACE, as a user other than root would
// (root with it may read any process). Before the start-up hook, ansible-playbook's fd 3 still
// held the secret when inventory ran.
TEST(CompatFrames, NothingTheJobStartsFindsTheSecret) {
    TempDir tmp;
    fs::path pdd = copy_fixture("secret_hunt", tmp);
    auto run = run_command({"setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace",
                            ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml", "--ident",
                            "hunt", "-q"});
    fs::path art = pdd / "artifacts/hunt";
    EXPECT_EQ(run.exit_code, 0) << run.err << read_text(art / "stdout");
    EXPECT_EQ(read_text(art / "status"), "successful");
    auto hunt = Json::parse(read_text(pdd / "project/hunt.json"));
    EXPECT_TRUE(hunt["read_environ"].get<bool>()) << hunt.dump();
    auto events = load_job_events(art);
    for (const Json& e : events) {
        EXPECT_FALSE(e.contains("event_data") && e["event_data"].contains("forged")) << e.dump();
    }
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["event"], "playbook_on_stats");
}

}  // namespace
}  // namespace arunner::testing
