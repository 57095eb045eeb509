// arunner::Runner with a fake child: a shell script that prints framed events like our callback
// plugin does, so callback order and semantics are checked in milliseconds, without ansible.

#include "arunner/runner.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/temp_dir.hpp"

namespace arunner {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// printf commands that write one framed event with some text.
std::string framed_event(const std::string& event, const std::string& uuid, const std::string& host,
                         const std::string& text) {
    std::string begin = "{\"event\": \"" + event + "\", \"pid\": 1, \"uuid\": \"" + uuid +
                        "\", \"created\": \"2026-01-01T00:00:00.000001+00:00\", "
                        "\"event_data\": {\"host\": \"" +
                        host + "\"}}";
    // The frame secret, as the plugin reads it: from the fd ARUNNER_FRAME_FD names.
    return "[ -n \"$s\" ] || s=$(cat <&$ARUNNER_FRAME_FD)\n"
           "printf '\\033_arunner:%s:%s\\033\\\\%s\\r\\n\\033_arunner:%s:\\033\\\\' \"$s\" '" +
           begin + "' '" + text + "' \"$s\"\n";
}

/// A private data dir whose `args` runs a script (ansible-runner's raw mode).
fs::path fake_job(const testing::TempDir& tmp, const std::string& script_body) {
    fs::path pdd = tmp / "pdd";
    fs::create_directories(pdd);
    std::ofstream(pdd / "job.sh") << script_body;
    std::ofstream(pdd / "args") << "/bin/sh " << (pdd / "job.sh").string();
    return pdd;
}

std::string three_events() {
    return framed_event("runner_on_ok", "00000000-0000-4000-8000-000000000001", "web1",
                        "ok: [web1]") +
           framed_event("runner_on_failed", "00000000-0000-4000-8000-000000000002", "web2",
                        "fatal: [web2]") +
           framed_event("playbook_on_stats", "00000000-0000-4000-8000-000000000003", "",
                        "PLAY RECAP");
}

RunOptions options_for(const fs::path& pdd) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.ident = "job";
    options.console_fd = -1;
    options.playbook = "unused.yml";
    return options;
}

TEST(Runner, CallbacksRunInAnsibleRunnersOrder) {
    testing::TempDir tmp;
    fs::path pdd = fake_job(tmp, three_events());
    std::vector<std::string> calls;
    RunCallbacks callbacks;
    callbacks.status_handler = [&](const StatusUpdate& u) {
        calls.push_back("status:" + std::string(to_string(u.status)));
        if (u.status == JobStatus::starting) {
            EXPECT_EQ(u.command, (std::vector<std::string>{"/bin/sh", (pdd / "job.sh").string()}));
            EXPECT_EQ(u.cwd, pdd.string());
            EXPECT_FALSE(u.env.empty());
        } else {
            EXPECT_TRUE(u.command.empty());
        }
        EXPECT_EQ(u.runner_ident, "job");
    };
    callbacks.event_handler = [&](Json& e) {
        calls.push_back("event:" + e["event"].get<std::string>());
        return true;
    };
    callbacks.artifacts_handler = [&](const fs::path& art) {
        calls.push_back("artifacts");
        EXPECT_EQ(art, pdd / "artifacts/job");
        std::ifstream status(art / "status");
        std::string text((std::istreambuf_iterator<char>(status)), {});
        EXPECT_EQ(text, "successful");  // written before the artifacts handler
    };
    callbacks.finished_callback = [&](const Runner& r) {
        calls.push_back("finished");
        EXPECT_EQ(r.status(), JobStatus::successful);
    };
    auto runner = run(options_for(pdd), callbacks);
    ASSERT_TRUE(runner.ok()) << runner.error().message;
    EXPECT_EQ(calls,
              (std::vector<std::string>{"status:starting", "status:running", "event:runner_on_ok",
                                        "event:runner_on_failed", "event:playbook_on_stats",
                                        "status:successful", "artifacts", "finished"}));
    EXPECT_EQ((*runner)->rc(), 0);
    EXPECT_TRUE((*runner)->done());
}

TEST(Runner, FalseFromTheEventHandlerSkipsTheFile) {
    testing::TempDir tmp;
    fs::path pdd = fake_job(tmp, three_events());
    RunCallbacks callbacks;
    callbacks.event_handler = [](Json& e) {
        e["added_by_handler"] = true;
        return e["event"] != "runner_on_failed";
    };
    auto runner = run(options_for(pdd), callbacks);
    ASSERT_TRUE(runner.ok());
    auto events = (*runner)->events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["event"], "runner_on_ok");
    EXPECT_EQ(events[0]["added_by_handler"], true);
    EXPECT_EQ(events[1]["event"], "playbook_on_stats");
    size_t files = 0;
    for ([[maybe_unused]] const auto& f :
         fs::directory_iterator(pdd / "artifacts/job/job_events")) {
        ++files;
    }
    EXPECT_EQ(files, 2u);
}

TEST(Runner, StatsAndHostEvents) {
    testing::TempDir tmp;
    fs::path pdd = fake_job(tmp, three_events());
    auto runner = run(options_for(pdd));
    ASSERT_TRUE(runner.ok());
    auto stats = (*runner)->stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->size(), 8u);
    EXPECT_EQ((*stats)["ok"], Json::object());
    auto web2 = (*runner)->host_events("web2");
    ASSERT_EQ(web2.size(), 1u);
    EXPECT_EQ(web2[0]["event"], "runner_on_failed");
    EXPECT_TRUE((*runner)->host_events("nobody").empty());
    EXPECT_EQ((*runner)->stdout_text().value(), "ok: [web1]\nfatal: [web2]\nPLAY RECAP\n");
    EXPECT_EQ((*runner)->stderr_text().value(), "");
}

TEST(Runner, NoStatsWithoutAStatsEvent) {
    testing::TempDir tmp;
    fs::path pdd = fake_job(tmp, "echo plain text\n");
    auto runner = run(options_for(pdd));
    ASSERT_TRUE(runner.ok());
    EXPECT_FALSE((*runner)->stats().has_value());
    ASSERT_EQ((*runner)->events().size(), 1u);
    EXPECT_EQ((*runner)->events()[0]["event"], "verbose");
}

TEST(Runner, CancelCallbackCancelsAndKillsTheChild) {
    testing::TempDir tmp;
    // The marker is written only if the child runs to its end.
    fs::path pdd = fake_job(tmp, "echo started; sleep 100; touch \"$0.ran-to-end\"\n");
    RunCallbacks callbacks;
    int polls = 0;
    callbacks.cancel_callback = [&] { return ++polls >= 3; };
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/settings") << "pexpect_timeout: 0.05\n";
    auto runner = run(options_for(pdd), callbacks);
    ASSERT_TRUE(runner.ok());
    EXPECT_FALSE(fs::exists(pdd / "job.sh.ran-to-end")) << "the child was not killed";
    EXPECT_EQ((*runner)->status(), JobStatus::canceled);
    EXPECT_EQ((*runner)->rc(), 254);
    EXPECT_TRUE((*runner)->canceled());
}

struct ThrowingCase {
    const char* name;
    const char* message;
};

class RunnerCallbackThrows : public ::testing::TestWithParam<ThrowingCase> {};

TEST_P(RunnerCallbackThrows, EndsTheJobCleanlyAndNamesTheCallback) {
    testing::TempDir tmp;
    // The marker is written only if the child runs to its end.
    fs::path pdd = fake_job(tmp, three_events() + "sleep 100; touch \"$0.ran-to-end\"\n");
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/settings") << "pexpect_timeout: 0.05\n";
    std::string which = GetParam().name;
    RunCallbacks callbacks;
    auto boom = [](const char*) { throw std::runtime_error("boom"); };
    bool finished_called = false;
    if (which == "event") {
        callbacks.event_handler = [&](Json&) -> bool {
            boom("event");
            return true;
        };
    } else if (which == "status") {
        callbacks.status_handler = [&](const StatusUpdate& u) {
            if (u.status == JobStatus::running)
                boom("status");
        };
    } else if (which == "cancel") {
        callbacks.cancel_callback = [&]() -> bool {
            boom("cancel");
            return false;
        };
    } else if (which == "artifacts") {
        callbacks.artifacts_handler = [&](const fs::path&) { boom("artifacts"); };
    } else if (which == "finished") {
        callbacks.finished_callback = [&](const Runner&) { boom("finished"); };
    }
    if (which != "finished") {
        callbacks.finished_callback = [&](const Runner&) { finished_called = true; };
    }
    if (which == "artifacts" || which == "finished") {
        std::ofstream(pdd / "job.sh") << three_events();  // the job itself ends on its own
    }
    auto runner = run(options_for(pdd), callbacks);
    ASSERT_TRUE(runner.ok());
    EXPECT_FALSE(fs::exists(pdd / "job.sh.ran-to-end")) << "the child was not killed";
    EXPECT_EQ((*runner)->status(), JobStatus::error);
    EXPECT_EQ((*runner)->rc(), 1);
    EXPECT_TRUE((*runner)->errored());
    EXPECT_EQ((*runner)->error_message(), std::string(GetParam().message) + "boom");
    std::ifstream status(pdd / "artifacts/job/status");
    std::string text((std::istreambuf_iterator<char>(status)), {});
    EXPECT_EQ(text, "error");
    if (which != "finished") {
        EXPECT_TRUE(finished_called);
    }
}

INSTANTIATE_TEST_SUITE_P(
    EachCallback, RunnerCallbackThrows,
    ::testing::Values(ThrowingCase{"event", "Exception in Event Handler: "},
                      ThrowingCase{"status", "Exception in Status Handler: "},
                      ThrowingCase{"cancel", "Exception in Cancel Callback: "},
                      ThrowingCase{"artifacts", "Exception in Artifact Callback: "},
                      ThrowingCase{"finished", "Exception in Finished Callback: "}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Runner, RunAsyncStreamsEventsWhileTheJobRuns) {
    testing::TempDir tmp;
    fs::path pdd = fake_job(
        tmp,
        framed_event("runner_on_ok", "00000000-0000-4000-8000-00000000000a", "h", "first") +
            "sleep 0.5\n" +
            framed_event("runner_on_ok", "00000000-0000-4000-8000-00000000000b", "h", "second"));
    auto runner = run_async(options_for(pdd));
    ASSERT_TRUE(runner.ok());
    EventStream stream = (*runner)->event_stream();
    auto first = stream.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ((*first)["stdout"], "first");
    EXPECT_FALSE((*runner)->done()) << "the first event should arrive while the job runs";
    auto second = stream.next();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ((*second)["stdout"], "second");
    EXPECT_FALSE(stream.next().has_value());
    (*runner)->wait();
    EXPECT_EQ((*runner)->status(), JobStatus::successful);
}

TEST(Runner, CreateReportsBadOptionsBeforeAnythingStarts) {
    testing::TempDir tmp;
    RunOptions options = options_for(tmp.path());
    options.rotate_artifacts = -1;
    auto runner = Runner::create(options);
    ASSERT_FALSE(runner.ok());
    EXPECT_EQ(runner.error().message, "rotate_artifacts must not be negative");
    RunOptions neither;
    neither.private_data_dir = tmp.path();
    auto none = Runner::create(neither);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().message, "Runner playbook required when running ansible-playbook");
}

TEST(Runner, ATemporaryPrivateDataDirAndARolesPlaybookGoWithTheRunner) {
    RunOptions options;
    options.role = "web";
    fs::path pdd;
    fs::path playbook;
    {
        auto runner = Runner::create(options);
        ASSERT_TRUE(runner.ok()) << runner.error().message;
        pdd = (*runner)->private_data_dir();
        playbook = (*runner)->command().back();
        EXPECT_TRUE(fs::is_directory(pdd));
        EXPECT_TRUE(fs::is_regular_file(playbook));
        EXPECT_EQ(playbook.parent_path(), pdd / "project");
    }
    EXPECT_FALSE(fs::exists(pdd)) << "a Runner never run removes what it made too";

    testing::TempDir tmp;
    RunOptions kept;
    kept.private_data_dir = tmp.path();
    kept.role = "web";
    {
        auto runner = Runner::create(kept);
        ASSERT_TRUE(runner.ok()) << runner.error().message;
        EXPECT_TRUE(fs::exists(tmp / "project"));
    }
    EXPECT_TRUE(fs::is_directory(tmp.path())) << "a given private data dir stays";
    EXPECT_FALSE(fs::exists(tmp / "project")) << "the project dir was made for the play";
}

TEST(Runner, TheSandboxsStagingDirAndTheProjectsCopyGoWithTheRunnerUnlessHandedOver) {
    testing::TempDir tmp;
    fs::create_directories(tmp / "pdd/project");
    std::ofstream(tmp / "pdd/project/site.yml") << "[]\n";
    fs::create_directories(tmp / "base");
    fs::create_directories(tmp / "staging");
    RunOptions options;
    options.private_data_dir = tmp / "pdd";
    options.playbook = "site.yml";
    options.process_isolation = true;
    options.process_isolation_executable = "bwrap";
    options.process_isolation_path = tmp / "staging";
    options.directory_isolation_base_path = tmp / "base";
    {
        auto runner = Runner::create(options);
        ASSERT_TRUE(runner.ok()) << runner.error().message;
        EXPECT_FALSE(fs::is_empty(tmp / "base"));
        EXPECT_FALSE(fs::is_empty(tmp / "staging"));
    }
    EXPECT_TRUE(fs::is_empty(tmp / "base")) << "a Runner never run removes the copy";
    EXPECT_TRUE(fs::is_empty(tmp / "staging"));
    {
        auto runner = Runner::create(options);
        ASSERT_TRUE(runner.ok()) << runner.error().message;
        (*runner)->hand_over_run_files();  // as `arunner start` does once its daemon runs
    }
    EXPECT_FALSE(fs::is_empty(tmp / "base")) << "handed over: the other process removes them";
    EXPECT_FALSE(fs::is_empty(tmp / "staging"));
}

TEST(Runner, FactCacheRoundTrip) {
    testing::TempDir tmp;
    fs::path pdd = fake_job(tmp, "true\n");
    auto runner = Runner::create(options_for(pdd));
    ASSERT_TRUE(runner.ok());
    EXPECT_EQ((*runner)->get_fact_cache("web1").value(), Json::object());
    ASSERT_TRUE((*runner)->set_fact_cache("web1", Json{{"role", "db"}}).ok());
    EXPECT_EQ((*runner)->get_fact_cache("web1").value(), (Json{{"role", "db"}}));
    EXPECT_FALSE((*runner)->set_fact_cache("../x", Json::object()).ok());
    EXPECT_TRUE(fs::exists(pdd / "artifacts/job/fact_cache/web1"));
}

TEST(Runner, MissingStdoutIsAnError) {
    testing::TempDir tmp;
    fs::path pdd = fake_job(tmp, "true\n");
    auto runner = Runner::create(options_for(pdd));
    ASSERT_TRUE(runner.ok());
    auto out = (*runner)->stdout_text();
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message, "stdout missing");
}

}  // namespace
}  // namespace arunner
