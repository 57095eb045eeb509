// Job events from a real run: the structure a consumer relies on (counters, uuids, parent chain,
// line numbers), every event type the fixture exercises, no_log secrecy, facts, and events that
// appear while the job still runs.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <map>
#include <set>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::ordered_json;

struct FixtureRun {
    CommandResult result;
    fs::path art;
    std::vector<Json> events;
};

FixtureRun run_fixture(const TempDir& tmp, const std::string& fixture,
                       std::vector<std::string> extra = {}) {
    fs::path pdd = copy_fixture(fixture, tmp);
    std::vector<std::string> argv = {ARUNNER_BINARY, "run", pdd.string(), "-p",
                                     "site.yml",     "-i",  "ev"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    FixtureRun run;
    run.result = run_command(argv);
    run.art = pdd / "artifacts/ev";
    run.events = load_job_events(run.art);
    return run;
}

std::set<std::string> event_names(const std::vector<Json>& events) {
    std::set<std::string> names;
    for (const auto& e : events) {
        names.insert(e.value("event", ""));
    }
    return names;
}

/// What every consumer of job_events relies on.
void expect_well_formed(const FixtureRun& run) {
    ASSERT_FALSE(run.events.empty());
    std::set<std::string> uuids;
    for (const auto& e : run.events) {
        uuids.insert(e.value("uuid", ""));
    }
    uint64_t expected_counter = 1;
    uint64_t last_end = 0;
    for (const auto& e : run.events) {
        SCOPED_TRACE(e.dump());
        EXPECT_EQ(e["counter"].get<uint64_t>(), expected_counter++);
        EXPECT_EQ(e["uuid"].get<std::string>().size(), 36u);
        EXPECT_EQ(e["runner_ident"], "ev");
        std::string created = e["created"].get<std::string>();
        EXPECT_EQ(created.substr(created.size() - 6), "+00:00");
        EXPECT_EQ(e["start_line"].get<uint64_t>(), last_end);
        EXPECT_GE(e["end_line"].get<uint64_t>(), e["start_line"].get<uint64_t>());
        last_end = e["end_line"].get<uint64_t>();
        if (e.contains("parent_uuid")) {
            EXPECT_EQ(uuids.count(e["parent_uuid"].get<std::string>()), 1u);
        }
        fs::path file = run.art / "job_events" /
                        (std::to_string(e["counter"].get<uint64_t>()) + "-" +
                         e["uuid"].get<std::string>() + ".json");
        struct stat st {};
        ASSERT_EQ(::stat(file.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0600u);
    }
    for (const auto& entry : fs::directory_iterator(run.art / "job_events")) {
        std::string name = entry.path().filename().string();
        EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
        EXPECT_EQ(name.find("partial"), std::string::npos) << name;
    }
    std::string stdout_text = read_text(run.art / "stdout");
    EXPECT_EQ(stdout_text.find("\x1b_"), std::string::npos) << "framing leaked into stdout";
}

void check_every_event_type(const FixtureRun& run) {
    expect_well_formed(run);
    std::set<std::string> names = event_names(run.events);
    for (const char* expected :
         {"playbook_on_start", "playbook_on_play_start", "playbook_on_task_start",
          "runner_on_start", "runner_on_ok", "runner_on_failed", "runner_on_skipped",
          "runner_item_on_ok", "runner_item_on_failed", "playbook_on_notify", "playbook_on_include",
          "runner_retry", "runner_on_async_ok", "runner_on_file_diff", "warning",
          "playbook_on_stats"}) {
        EXPECT_EQ(names.count(expected), 1u) << expected;
    }
    EXPECT_EQ(run.events.front()["event"], "playbook_on_start");
    EXPECT_EQ(run.events.back()["event"], "playbook_on_stats");
    const Json& stats = run.events.back()["event_data"];
    EXPECT_EQ(stats["artifact_data"], (Json{{"answer", 42}, {"color", "blue"}}));
    EXPECT_EQ(stats["rescued"]["localhost"], 1);
    EXPECT_GE(stats["ok"]["localhost"].get<int>(), 10);
}

void check_no_log_secrecy(const FixtureRun& run) {
    ASSERT_EQ(run.result.exit_code, 0);
    std::string everything = all_text_under(run.art);
    EXPECT_EQ(everything.find("SECRET-TOKEN-1234"), std::string::npos);
    EXPECT_EQ(run.result.out.find("SECRET-TOKEN-1234"), std::string::npos);
    bool censored = false;
    for (const auto& e : run.events) {
        if (e["event_data"].value("task", "") == "secret task" && e["event"] == "runner_on_ok") {
            EXPECT_EQ(e["event_data"]["res"]["censored"],
                      "the output has been hidden due to the fact that 'no_log: true' was "
                      "specified for this result");
            censored = true;
        }
    }
    EXPECT_TRUE(censored);
}

void check_facts(const FixtureRun& run) {
    ASSERT_EQ(run.result.exit_code, 0);
    auto facts = Json::parse(read_text(run.art / "fact_cache/localhost"), nullptr, false);
    ASSERT_TRUE(facts.is_object());
    EXPECT_TRUE(facts.contains("ansible_distribution"));
    bool found_setup = false;
    for (const auto& e : run.events) {
        if (e["event"] == "runner_on_ok" &&
            e["event_data"].value("task_action", "") == "gather_facts") {
            found_setup = true;
            EXPECT_FALSE(e["event_data"]["res"]["ansible_facts"].contains("ansible_env"));
            EXPECT_TRUE(e["event_data"]["res"]["ansible_facts"].contains("ansible_distribution"));
        }
    }
    EXPECT_TRUE(found_setup);
}

void check_stdout_is_event_text(const FixtureRun& run) {
    ASSERT_EQ(run.result.exit_code, 0);
    std::string rebuilt;
    for (const auto& e : run.events) {
        std::string text = e["stdout"].get<std::string>();
        if (!text.empty()) {
            rebuilt += text + "\n";
        }
    }
    std::string stdout_text = read_text(run.art / "stdout");
    std::erase(stdout_text, '\r');
    std::erase(rebuilt, '\r');
    EXPECT_EQ(stdout_text, rebuilt);
    EXPECT_EQ(run.result.out, read_text(run.art / "stdout"));
}

// The every-event fixture takes ~10 s, so it runs once and each aspect is checked on that run.
TEST(Events, EveryEventTypeFixture) {
    TempDir tmp;
    FixtureRun run = run_fixture(tmp, "events");
    ASSERT_EQ(run.result.exit_code, 0) << run.result.out << run.result.err;
    {
        SCOPED_TRACE("event types");
        check_every_event_type(run);
    }
    {
        SCOPED_TRACE("no_log");
        check_no_log_secrecy(run);
    }
    {
        SCOPED_TRACE("facts");
        check_facts(run);
    }
    {
        SCOPED_TRACE("stdout");
        check_stdout_is_event_text(run);
    }
}

TEST(Events, UnreachableHostAndFailingPlay) {
    TempDir tmp;
    FixtureRun unreachable = run_fixture(tmp, "events-unreachable");
    EXPECT_NE(unreachable.result.exit_code, 0);
    expect_well_formed(unreachable);
    EXPECT_EQ(event_names(unreachable.events).count("runner_on_unreachable"), 1u);
    EXPECT_EQ(read_text(unreachable.art / "status"), "failed");

    TempDir tmp2;
    FixtureRun failing = run_fixture(tmp2, "events-failing");
    EXPECT_EQ(failing.result.exit_code, 2);
    expect_well_formed(failing);
    EXPECT_EQ(event_names(failing.events).count("runner_on_failed"), 1u);
    EXPECT_EQ(failing.events.back()["event"], "playbook_on_stats");
}

TEST(Events, JsonModePrintsEachEventAsAJsonLine) {
    TempDir tmp;
    FixtureRun run = run_fixture(tmp, "events-failing", {"-j"});
    EXPECT_EQ(run.result.exit_code, 2);
    std::set<std::string> printed;
    std::istringstream lines(read_text(run.art / "stdout"));
    for (std::string line; std::getline(lines, line);) {
        auto parsed = Json::parse(line, nullptr, false);
        if (parsed.is_object() && parsed.contains("uuid")) {
            printed.insert(parsed["uuid"].get<std::string>());
        }
    }
    size_t callback_events = 0;
    for (const auto& e : run.events) {
        if (e.contains("pid")) {  // from the callback (not a runner-side verbose line)
            ++callback_events;
            EXPECT_EQ(printed.count(e["uuid"].get<std::string>()), 1u) << e["event"];
        }
    }
    EXPECT_GT(callback_events, 5u);
    EXPECT_EQ(run.result.out, read_text(run.art / "stdout"));
}

TEST(Events, OmitEventDataEmptiesEventData) {
    TempDir tmp;
    FixtureRun run = run_fixture(tmp, "events-failing", {"--omit-event-data"});
    ASSERT_FALSE(run.events.empty());
    for (const auto& e : run.events) {
        if (e.contains("event_data")) {
            EXPECT_EQ(e["event_data"], Json::object()) << e["event"];
        }
    }
}

TEST(Events, OnlyFailedEventDataKeepsFailures) {
    TempDir tmp;
    FixtureRun run = run_fixture(tmp, "events-failing", {"--only-failed-event-data"});
    bool saw_failed = false;
    for (const auto& e : run.events) {
        if (!e.contains("event_data")) {
            continue;
        }
        if (e["event"] == "runner_on_failed") {
            saw_failed = true;
            EXPECT_FALSE(e["event_data"].empty());
        } else {
            EXPECT_EQ(e["event_data"], Json::object()) << e["event"];
        }
    }
    EXPECT_TRUE(saw_failed);
}

TEST(Events, ALiveMonitorSeesEventsBeforeTheRunEnds) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    fs::path art = pdd / "artifacts/live";
    BackgroundCommand job({ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml", "-i", "live"});
    // A monitor polling job_events, as dashboards do: count events, active and failed hosts.
    std::set<std::string> active_hosts;
    size_t seen = 0;
    bool saw_sleep_start = wait_until(
        [&] {
            auto events = load_job_events(art);
            seen = events.size();
            for (const auto& e : events) {
                if (e["event"] == "runner_on_start") {
                    active_hosts.insert(e["event_data"].value("host", ""));
                    if (e["event_data"].value("task", "") == "sleep for a long time") {
                        return true;
                    }
                }
            }
            return false;
        },
        60s);
    EXPECT_TRUE(saw_sleep_start);
    EXPECT_GE(seen, 5u);
    EXPECT_EQ(active_hosts, (std::set<std::string>{"localhost"}));
    EXPECT_FALSE(fs::exists(art / "status")) << "the run should still be going";
    ::kill(job.pid(), SIGTERM);
    CommandResult r = job.finish();
    EXPECT_EQ(r.exit_code, 254);
}

}  // namespace
}  // namespace arunner::testing
