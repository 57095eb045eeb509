// The same fixtures through `arunner run` and Debian's `ansible-runner run`, compared event for
// event: status, rc, artifact files, the (event, task, host, item) sequence, each event's key
// order and event_data keys, the stats, and the stdout text.

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
    std::string status, rc, stdout_text;
    std::set<std::string> files;
    std::vector<Json> events;
};

/// Values that differ from run to run: timestamps, durations, temp paths, pids.
std::string normalise(std::string text) {
    static const std::vector<std::pair<std::regex, std::string>> rules = {
        {std::regex(R"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?)"), "<time>"},
        {std::regex(R"("delta": "[^"]*")"), R"("delta": "<delta>")"},
        {std::regex(R"(/tmp/ansible\.[A-Za-z0-9_]+)"), "/tmp/<tmp>"},
        {std::regex(R"(ansible-local-[A-Za-z0-9_]+/tmp[A-Za-z0-9_]+)"), "<ansible-tmp>"},
        {std::regex(R"("ansible_job_id": "[^"]*")"), R"("ansible_job_id": "<jid>")"},
        {std::regex(R"(j\d{6,}\.\d+)"), "<jid>"},
        {std::regex(R"(/artifacts/(ours|theirs)/)"), "/artifacts/<ident>/"},
    };
    for (const auto& [pattern, replacement] : rules) {
        text = std::regex_replace(text, pattern, replacement);
    }
    return text;
}

Side run_side(const std::string& runner, const fs::path& pdd, const std::string& ident,
              const std::vector<std::string>& args) {
    std::vector<std::string> argv = {runner, "run", pdd.string(), "-i", ident};
    argv.insert(argv.end(), args.begin(), args.end());
    Side side;
    side.exit_code = run_command(argv).exit_code;
    fs::path art = pdd / "artifacts" / ident;
    side.status = read_text(art / "status");
    side.rc = read_text(art / "rc");
    side.stdout_text = normalise(read_text(art / "stdout"));
    for (const auto& entry : fs::directory_iterator(art)) {
        side.files.insert(entry.path().filename().string());
    }
    side.events = load_job_events(art);
    return side;
}

std::string describe(const Json& e) {
    const Json& data = e.contains("event_data") ? e["event_data"] : Json::object();
    std::string item;
    if (data.contains("res") && data["res"].is_object() && data["res"].contains("item")) {
        item = data["res"]["item"].dump();
    }
    return e.value("event", "") + " | " + data.value("task", "") + " | " + data.value("host", "") +
           " | " + item;
}

void expect_same_events(const std::string& fixture, const std::vector<std::string>& args) {
    TempDir tmp;
    fs::path pdd = copy_fixture(fixture, tmp);
    Side ours = run_side(ARUNNER_BINARY, pdd, "ours", args);
    Side theirs = run_side("/usr/bin/ansible-runner", pdd, "theirs", args);

    EXPECT_EQ(ours.exit_code, theirs.exit_code);
    EXPECT_EQ(ours.status, theirs.status);
    EXPECT_EQ(ours.rc, theirs.rc);
    EXPECT_EQ(ours.files, theirs.files);
    EXPECT_EQ(ours.stdout_text, theirs.stdout_text);

    std::vector<std::string> our_sequence, their_sequence;
    for (const auto& e : ours.events)
        our_sequence.push_back(describe(e));
    for (const auto& e : theirs.events)
        their_sequence.push_back(describe(e));
    ASSERT_EQ(our_sequence, their_sequence);

    for (size_t i = 0; i < ours.events.size(); ++i) {
        const Json& a = ours.events[i];
        const Json& b = theirs.events[i];
        SCOPED_TRACE(describe(a));
        EXPECT_EQ(keys_of(a), keys_of(b));
        if (a.contains("event_data")) {
            std::vector<std::string> ka = keys_of(a["event_data"]);
            std::vector<std::string> kb = keys_of(b["event_data"]);
            EXPECT_EQ(std::set<std::string>(ka.begin(), ka.end()),
                      std::set<std::string>(kb.begin(), kb.end()));
        }
        EXPECT_EQ(a["counter"], b["counter"]);
        EXPECT_EQ(normalise(a["stdout"].get<std::string>()),
                  normalise(b["stdout"].get<std::string>()));
        EXPECT_EQ(a["start_line"], b["start_line"]);
        EXPECT_EQ(a["end_line"], b["end_line"]);
    }
    ASSERT_FALSE(ours.events.empty());
    if (ours.events.back()["event"] == "playbook_on_stats") {
        for (const char* key : {"changed", "dark", "failures", "ignored", "ok", "processed",
                                "rescued", "skipped", "artifact_data"}) {
            EXPECT_EQ(ours.events.back()["event_data"][key],
                      theirs.events.back()["event_data"][key])
                << key;
        }
    }
}

TEST(CompatEvents, EveryEventTypeFixture) {
    expect_same_events("events", {"-p", "site.yml"});
}

TEST(CompatEvents, UnreachableHost) {
    expect_same_events("events-unreachable", {"-p", "site.yml"});
}

TEST(CompatEvents, FailingPlay) {
    expect_same_events("events-failing", {"-p", "site.yml"});
}

TEST(CompatEvents, VerboseRun) {
    expect_same_events("events-failing", {"-p", "site.yml", "-vv"});
}

TEST(CompatEvents, AdHocModule) {
    expect_same_events("events-failing", {"-m", "ping", "--hosts", "localhost"});
}

}  // namespace
}  // namespace arunner::testing
