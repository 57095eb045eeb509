// The library API with real ansible-core: each callback's order and payload, suppression,
// cancel from a callback, a throwing callback, events while running, stats/host_events, fact
// cache seeding, and the CLI and the API leaving the same artifacts.

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "arunner/runner.hpp"
#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

RunOptions playbook(const fs::path& pdd, const std::string& ident) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = ident;
    options.console_fd = -1;
    return options;
}

TEST(Api, CallbacksSeeARealRunInOrder) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    std::vector<std::string> calls;
    std::vector<int64_t> counters;
    StatusUpdate starting;
    RunCallbacks callbacks;
    callbacks.status_handler = [&](const StatusUpdate& u) {
        calls.push_back(std::string(to_string(u.status)));
        if (u.status == JobStatus::starting) {
            starting = u;
        }
    };
    callbacks.event_handler = [&](Json& e) {
        if (calls.back() != "event") {
            calls.push_back("event");
        }
        counters.push_back(e["counter"].get<int64_t>());
        EXPECT_EQ(e["runner_ident"], "cb");
        return true;
    };
    callbacks.artifacts_handler = [&](const fs::path& art) {
        calls.push_back("artifacts");
        EXPECT_EQ(read_text(art / "rc"), "0");
    };
    callbacks.finished_callback = [&](const Runner&) { calls.push_back("finished"); };
    auto runner = run(playbook(pdd, "cb"), callbacks);
    ASSERT_TRUE(runner.ok()) << runner.error().message;
    EXPECT_EQ(calls, (std::vector<std::string>{"starting", "running", "event", "successful",
                                               "artifacts", "finished"}));
    for (size_t i = 0; i < counters.size(); ++i) {
        EXPECT_EQ(counters[i], static_cast<int64_t>(i + 1));
    }
    EXPECT_GE(counters.size(), 8u);
    // The `starting` payload is what ART/command records.
    auto command = Json::parse(read_text(pdd / "artifacts/cb/command"));
    EXPECT_EQ(command["command"], starting.command);
    EXPECT_EQ(command["cwd"], starting.cwd);
    EXPECT_EQ(command["env"].size(), starting.env.size());
    EXPECT_EQ((*runner)->events().size(), counters.size());
}

TEST(Api, FalseFromTheEventHandlerSuppressesOnlyThoseFiles) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    RunCallbacks callbacks;
    size_t seen = 0;
    callbacks.event_handler = [&](Json& e) {
        ++seen;
        return e["event"] != "runner_item_on_ok";
    };
    auto runner = run(playbook(pdd, "sup"), callbacks);
    ASSERT_TRUE(runner.ok());
    auto files = load_job_events(pdd / "artifacts/sup");
    EXPECT_EQ(files.size(), seen - 2);  // the two loop items
    for (const auto& e : files) {
        EXPECT_NE(e["event"], "runner_item_on_ok");
    }
}

TEST(Api, CancelFromTheCancelCallbackKillsEverything) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    std::atomic<bool> sleeping{false};
    RunCallbacks callbacks;
    callbacks.event_handler = [&](Json& e) {
        if (e["event"] == "runner_on_start" &&
            e["event_data"].value("task", "") == "sleep for a long time") {
            sleeping = true;
        }
        return true;
    };
    callbacks.cancel_callback = [&] { return sleeping.load(); };
    auto started = std::chrono::steady_clock::now();
    auto runner = run(playbook(pdd, "cancel"), callbacks);
    ASSERT_TRUE(runner.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
    EXPECT_EQ((*runner)->status(), JobStatus::canceled);
    EXPECT_EQ((*runner)->rc(), 254);
    EXPECT_EQ(read_text(pdd / "artifacts/cancel/status"), "canceled");
    EXPECT_TRUE(processes_with_environment(art_env(pdd / "artifacts/cancel")).empty());
}

TEST(Api, AThrowingEventHandlerEndsTheRealJobCleanly) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    RunCallbacks callbacks;
    callbacks.event_handler = [&](Json& e) -> bool {
        if (e["event"] == "runner_on_start") {
            throw std::runtime_error("handler bug");
        }
        return true;
    };
    auto runner = run(playbook(pdd, "throw"), callbacks);
    ASSERT_TRUE(runner.ok());
    EXPECT_EQ((*runner)->status(), JobStatus::error);
    EXPECT_EQ((*runner)->error_message(), "Exception in Event Handler: handler bug");
    EXPECT_EQ(read_text(pdd / "artifacts/throw/status"), "error");
    EXPECT_TRUE(processes_with_environment(art_env(pdd / "artifacts/throw")).empty());
}

TEST(Api, EventsArriveWhileRunningAndCancelAfterN) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    std::atomic<int> read{0};
    RunCallbacks callbacks;
    callbacks.cancel_callback = [&] { return read.load() >= 5; };
    auto runner = run_async(playbook(pdd, "async"), callbacks);
    ASSERT_TRUE(runner.ok());
    EventStream stream = (*runner)->event_stream();
    while (auto event = stream.next()) {
        if (++read == 5) {
            EXPECT_FALSE((*runner)->done());
            EXPECT_EQ((*runner)->status(), JobStatus::running);
        }
    }
    (*runner)->wait();
    EXPECT_GE(read.load(), 5);
    EXPECT_EQ((*runner)->status(), JobStatus::canceled);
}

TEST(Api, StatsAndHostEventsOnTheUnreachableFixture) {
    TempDir tmp;
    fs::path pdd = copy_fixture("events-unreachable", tmp);
    auto runner = run(playbook(pdd, "st"));
    ASSERT_TRUE(runner.ok());
    auto stats = (*runner)->stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(keys_of(*stats),
              (std::vector<std::string>{"skipped", "ok", "dark", "failures", "ignored", "rescued",
                                        "processed", "changed"}));
    EXPECT_FALSE((*stats)["dark"].empty());
    EXPECT_FALSE((*stats)["ok"].empty());
    auto local = (*runner)->host_events("localhost");
    ASSERT_FALSE(local.empty());
    for (const auto& e : local) {
        EXPECT_EQ(e["event_data"]["host"], "localhost");
    }
    std::string dark_host = (*stats)["dark"].begin().key();
    auto dark = (*runner)->host_events(dark_host);
    bool unreachable = false;
    for (const auto& e : dark) {
        unreachable = unreachable || e["event"] == "runner_on_unreachable";
    }
    EXPECT_TRUE(unreachable);
}

TEST(Api, SeededFactCacheIsReadByThePlay) {
    TempDir tmp;
    fs::path pdd = copy_fixture("factcache", tmp);
    auto runner = Runner::create(playbook(pdd, "facts"));
    ASSERT_TRUE(runner.ok());
    ASSERT_TRUE(
        (*runner)->set_fact_cache("localhost", Json{{"seeded_message", "from the seed"}}).ok());
    (*runner)->run();
    EXPECT_EQ((*runner)->status(), JobStatus::successful);
    EXPECT_NE((*runner)->stdout_text().value().find("seeded says from the seed"), std::string::npos)
        << (*runner)->stdout_text().value();
    EXPECT_EQ((*runner)->get_fact_cache("localhost").value()["seeded_message"], "from the seed");
}

TEST(Api, CliAndApiLeaveTheSameArtifacts) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult cli =
        run_command({ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml", "-i", "same", "-q"});
    ASSERT_EQ(cli.exit_code, 0);
    fs::rename(pdd / "artifacts/same", tmp / "cli-art");
    RunOptions options = playbook(pdd, "same");
    auto api = run(options);
    ASSERT_TRUE(api.ok());
    fs::path art = pdd / "artifacts/same";
    for (const char* name : {"command", "stdout", "stderr", "status", "rc"}) {
        EXPECT_EQ(read_text(art / name), read_text(tmp / "cli-art" / name)) << name;
    }
    auto api_events = load_job_events(art);
    auto cli_events = load_job_events(tmp / "cli-art");
    ASSERT_EQ(api_events.size(), cli_events.size());
    for (size_t i = 0; i < api_events.size(); ++i) {
        EXPECT_EQ(api_events[i]["event"], cli_events[i]["event"]);
        EXPECT_EQ(api_events[i]["stdout"], cli_events[i]["stdout"]);
        EXPECT_EQ(keys_of(api_events[i]), keys_of(cli_events[i]));
    }
}

TEST(Examples, PrintFailuresPrintsEachFailedTask) {
    TempDir tmp;
    fs::path pdd = copy_fixture("failing", tmp);
    CommandResult r =
        run_command({std::string(ARUNNER_EXAMPLES) + "/print_failures", pdd.string(), "site.yml"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "FAILED this fails on localhost\nstatus failed, rc 2\n");
}

TEST(Examples, CancelAfterStopsTheJobAfterNEvents) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    CommandResult r = run_command(
        {std::string(ARUNNER_EXAMPLES) + "/cancel_after", pdd.string(), "site.yml", "4"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("4 "), std::string::npos);
    EXPECT_NE(r.out.find("status canceled, rc 254\n"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace arunner::testing
