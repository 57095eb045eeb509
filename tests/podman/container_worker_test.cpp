// `arunner run --container-worker` end to end against a real engine (a private podman service, or
// the docker run's dockerd: podman_service.hpp) and the offline EE image (scripts/build-ee): the
// job is streamed into a container running a worker (arunner's, or Debian's ansible-runner) and
// processed here. A user checks that the artifacts and events equal a local run's, that events
// appear while the job runs, that cancel, signals, timeouts, a killed worker and broken setups end
// cleanly with no container left.
//
// What legitimately differs from a local run, and is not compared: event uuid / parent_uuid /
// pid / created (a different process, clock and playbook uuid), the facts gathered (another
// host), and paths (the worker runs the job in a private data dir of its own, e.g.
// /tmp/arunner-worker-XXXXXX or ansible-runner's /tmp/tmpXXXXXXXX, so ART/command and
// task_path name that dir), temp file names, async job ids, times and durations in the output.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>

#include "arunner/runner.hpp"
#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::ordered_json;

constexpr const char* kImage = kEeImage;

std::string unique_ident(const std::string& what) {
    static int runs = 0;  // one ident per run, also under --gtest_repeat
    return "cw" + std::to_string(::getpid()) + "_" + std::to_string(runs++) + "_" + what;
}

/// Text without what differs between any two runs of the same job: the private data dir (the
/// local one, or the worker's own temp dir), temp file names, and every number (times,
/// durations, pids, async job ids).
std::string normalized(std::string text, const fs::path& pdd) {
    text = std::regex_replace(text, std::regex(pdd.string()), "PDD");
    text = std::regex_replace(text, std::regex("/tmp/arunner-worker-[A-Za-z0-9_]+"), "PDD");
    text = std::regex_replace(text, std::regex("/tmp/tmp[A-Za-z0-9_]+"), "PDD");
    text = std::regex_replace(text, std::regex("ansible-local-[^/]+/tmp[A-Za-z0-9_]+"), "TMP");
    text = std::regex_replace(text, std::regex("[0-9]+"), "0");
    return text;
}

/// What a user compares between the events of two runs: per event, its name, counter, task,
/// play, role, host, loop item, line numbers, the keys it has and its (normalized) stdout.
std::vector<std::string> event_summary(const std::vector<ordered_json>& events,
                                       const fs::path& pdd) {
    std::vector<std::string> summary;
    for (const auto& event : events) {
        const ordered_json data = event.value("event_data", ordered_json::object());
        const ordered_json res = data.value("res", ordered_json::object());
        std::string line;
        auto add = [&line](const std::string& part) {
            line += part;
            line += '|';
        };
        add(event.value("event", ""));
        add(std::to_string(event.value("counter", 0)));
        for (const char* key : {"play", "task", "role", "host"}) {
            add(data.value(key, ""));
        }
        add(res.is_object() && res.contains("item") ? res["item"].dump() : "");
        add(std::to_string(event.value("start_line", -1)));
        add(std::to_string(event.value("end_line", -1)));
        add(event.value("runner_ident", ""));
        for (const auto& key : keys_of(event)) {
            line += key + ",";
        }
        add("");
        for (const auto& key : keys_of(data)) {
            line += key + ",";
        }
        add("");
        add(normalized(event.value("stdout", ""), pdd));
        summary.push_back(std::move(line));
    }
    return summary;
}

/// The names of the entries of `dir`.
std::set<std::string> entries_of(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        names.insert(entry.path().filename().string());
    }
    return names;
}

/// Every path under `dir`, to see that nothing was written there.
std::set<std::string> tree_of(const fs::path& dir) {
    std::set<std::string> paths;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
        paths.insert(entry.path().string());
    }
    return paths;
}

class ContainerWorker : public EngineSuite {
  protected:
    /// `arunner run PDD -p site.yml --container-worker …` through the private socket.
    static std::vector<std::string> worker_run(const fs::path& pdd, const std::string& ident,
                                               const std::vector<std::string>& extra = {}) {
        return container_run(pdd, ident, "--container-worker", extra);
    }

    /// Containers of this job the engine still knows, running or not.
    static size_t containers_of(const std::string& ident) {
        auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
        EXPECT_TRUE(listed.ok()) << listed.error().message;
        return listed.ok() ? listed->size() : 99;
    }

    /// Waits until the sleeper fixture's long task has started (its task event is in
    /// ART/job_events); false if it never does.
    static bool wait_sleeping(const fs::path& art) {
        return wait_for_task_start(art, "sleep for a long time", 180s);
    }

    /// A worker job stopped by `signal` to arunner while its long task sleeps ends as a local
    /// run does (tests/integration/run_test.cpp: exit 254, canceled, rc 254 for SIGINT, SIGTERM
    /// and SIGHUP), and its container is gone.
    static void expect_signal_cancels(const std::string& ident, int signal) {
        TempDir dir;
        auto pdd = copy_fixture("sleeper", dir);
        auto art = pdd / "artifacts" / ident;
        // arunner keeps SIGHUP ignored when it starts with it ignored (nohup): not here.
        auto previous = ::signal(SIGHUP, SIG_DFL);
        BackgroundCommand run(worker_run(pdd, ident));
        ::signal(SIGHUP, previous);
        ASSERT_TRUE(wait_sleeping(art)) << run.current_output();
        EXPECT_EQ(containers_of(ident), 1u);
        ::kill(run.pid(), signal);
        auto result = run.finish();
        EXPECT_EQ(result.exit_code, 254) << result.out << result.err;
        EXPECT_EQ(read_text(art / "status"), "canceled") << result.err;
        EXPECT_EQ(read_text(art / "rc"), "254");
        EXPECT_TRUE(fs::exists(art / "container_id"));
        EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
    }

    /// Runs the every-event fixture locally and through a worker container (`extra` picks the
    /// worker), under the same ident in two copies of it, and compares what a user sees.
    static void expect_matches_the_local_run(const std::string& what,
                                             const std::vector<std::string>& extra) {
        TempDir local_dir, worker_dir;
        auto local_pdd = copy_fixture("events", local_dir);
        auto worker_pdd = copy_fixture("events", worker_dir);
        const std::string ident = unique_ident(what);
        auto local = run_command(
            {ARUNNER_BINARY, "run", local_pdd.string(), "-p", "site.yml", "--ident", ident, "-q"});
        auto argv = worker_run(worker_pdd, ident, extra);
        argv.emplace_back("-q");
        auto contained = run_command(argv);
        auto local_art = local_pdd / "artifacts" / ident;
        auto art = worker_pdd / "artifacts" / ident;
        EXPECT_EQ(contained.exit_code, local.exit_code) << contained.err;
        EXPECT_EQ(read_text(art / "status"), read_text(local_art / "status")) << contained.err;
        EXPECT_EQ(read_text(art / "rc"), read_text(local_art / "rc"));
        EXPECT_EQ(read_text(art / "stderr"), read_text(local_art / "stderr"));
        EXPECT_EQ(normalized(read_text(art / "stdout"), worker_pdd),
                  normalized(read_text(local_art / "stdout"), local_pdd));
        auto events = load_job_events(art);
        auto local_events = load_job_events(local_art);
        ASSERT_GT(local_events.size(), 80u) << local.err;  // the fixture covers every event type
        EXPECT_EQ(event_summary(events, worker_pdd), event_summary(local_events, local_pdd));
        std::set<std::string> names;
        for (const auto& event : events) {
            names.insert(event.value("event", ""));
        }
        for (const char* name :
             {"playbook_on_start", "playbook_on_play_start", "playbook_on_task_start",
              "playbook_on_include", "playbook_on_notify", "playbook_on_stats", "runner_on_start",
              "runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_item_on_ok",
              "runner_item_on_failed", "runner_retry", "runner_on_async_ok", "runner_on_file_diff",
              "verbose", "warning"}) {
            EXPECT_EQ(names.count(name), 1u) << name;
        }
        // ansible-runner's files and the facts of the worker's host, plus the container's id.
        auto files = entries_of(art);
        for (const auto& file : entries_of(local_art)) {
            EXPECT_EQ(files.count(file), 1u) << file;
        }
        EXPECT_EQ(files.count("container_id"), 1u);
        EXPECT_TRUE(fs::exists(art / "fact_cache" / "localhost"));
        EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
    }

    /// The sleeper under env/settings `job_timeout: 2`: the timeout comes from the settings; no
    /// signal is sent. Returns ART.
    static fs::path run_into_the_job_timeout(const TempDir& dir, const std::string& ident,
                                             CommandResult& result) {
        auto pdd = copy_fixture("sleeper", dir);
        fs::create_directories(pdd / "env");
        std::ofstream(pdd / "env" / "settings") << "job_timeout: 2\n";
        result = run_command(worker_run(pdd, ident, {"-q"}));
        return pdd / "artifacts" / ident;
    }
};

TEST_F(ContainerWorker, MatchesTheLocalRun) {
    expect_matches_the_local_run("match", {});
}

TEST_F(ContainerWorker, AnsibleRunnersWorkerMatchesTheLocalRun) {
    // Debian's ansible-runner 2.3.1 in the same image speaks the same protocol.
    expect_matches_the_local_run("arworker",
                                 {"--container-worker-command", "ansible-runner worker"});
}

TEST_F(ContainerWorker, EventsAndOutputAppearWhileTheJobRuns) {
    TempDir dir;
    auto pdd = copy_fixture("sleeper", dir);
    const std::string ident = unique_ident("live");
    auto art = pdd / "artifacts" / ident;
    BackgroundCommand run(worker_run(pdd, ident));
    // The long task's start event is there while the task sleeps: the job has not ended.
    ASSERT_TRUE(wait_sleeping(art)) << run.current_output();
    int status = 0;
    EXPECT_EQ(::waitpid(run.pid(), &status, WNOHANG), 0) << "arunner has already exited";
    const std::string so_far = read_text(art / "status");
    for (const char* final_status : {"successful", "failed", "error", "canceled", "timeout"}) {
        EXPECT_NE(so_far, final_status);
    }
    EXPECT_GE(load_job_events(art).size(), 4u);
    EXPECT_NE(run.current_output().find("TASK [sleep for a long time]"), std::string::npos)
        << run.current_output();
    EXPECT_EQ(containers_of(ident), 1u);
    ::kill(run.pid(), SIGTERM);
    auto result = run.finish();
    EXPECT_EQ(read_text(art / "status"), "canceled") << result.err;
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
}

TEST_F(ContainerWorker, SigintCancelsAndLeavesNoContainer) {
    expect_signal_cancels(unique_ident("sigint"), SIGINT);
}

TEST_F(ContainerWorker, SigtermCancelsAndLeavesNoContainer) {
    expect_signal_cancels(unique_ident("sigterm"), SIGTERM);
}

TEST_F(ContainerWorker, SighupCancelsAndLeavesNoContainer) {
    expect_signal_cancels(unique_ident("sighup"), SIGHUP);
}

TEST_F(ContainerWorker, KilledWorkerIsAnErrorThatSaysTheStreamWasCut) {
    TempDir dir;
    auto pdd = copy_fixture("sleeper", dir);
    const std::string ident = unique_ident("killed");
    auto art = pdd / "artifacts" / ident;
    BackgroundCommand run(worker_run(pdd, ident));
    ASSERT_TRUE(wait_sleeping(art)) << run.current_output();
    auto listed = service_->engine().list("arunner.ident=" + ident);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    ASSERT_EQ(listed->size(), 1u);
    // What `podman kill` does: SIGKILL to the container.
    ASSERT_TRUE(service_->engine().kill(listed->front().id, SIGKILL).ok());
    auto result = run.finish();
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_EQ(read_text(art / "status"), "error") << result.err;
    EXPECT_EQ(read_text(art / "rc"), "1");
    EXPECT_NE(result.err.find("stream was cut"), std::string::npos) << result.err;
    // The engine's word: SIGKILL is 128 + 9.
    EXPECT_NE(result.err.find("exited with code 137"), std::string::npos) << result.err;
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
}

// The kernel's memory cgroup kills the biggest process in the container (the task, or
// ansible-playbook), not the worker, which then reports a plain `failed`; and podman 4.3.1 here
// reports OOMKilled=false on inspect. The controller counts the container's OOM kills in its
// memory cgroup itself (isolation/oom_watch.hpp) and says so.
TEST_F(ContainerWorker, OutOfMemoryIsAnErrorNamingOom) {
    TempDir dir;
    auto pdd = copy_fixture("oom", dir);
    const std::string ident = unique_ident("oom");
    auto art = pdd / "artifacts" / ident;
    auto result = run_command(worker_run(pdd, ident, {"--container-option=--memory=64m"}));
    if (result.err.find("containers/create") != std::string::npos &&
        result.err.find("memory") != std::string::npos) {
        GTEST_SKIP() << "the engine cannot set a memory limit here: " << result.err;
    }
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_EQ(read_text(art / "status"), "error") << result.out << result.err;
    EXPECT_NE(result.err.find("OOMKilled: the container ran out of memory (its memory limit is "
                              "64 MiB)"),
              std::string::npos)
        << result.err;
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
}

// A task writes a forged status and eof into every stdout in the container it can open; the
// worker is not dumpable, so its own is closed to the task, and the controller reports the job's
// real end: the next task fails.
TEST_F(ContainerWorker, ATaskCannotForgeTheWorkerStream) {
    TempDir dir;
    auto pdd = copy_fixture("worker_forge", dir);
    const std::string ident = unique_ident("forge");
    auto art = pdd / "artifacts" / ident;
    auto result = run_command(worker_run(pdd, ident));
    EXPECT_EQ(read_text(art / "status"), "failed") << result.out << result.err;
    EXPECT_EQ(read_text(art / "rc"), "2") << result.err;
    EXPECT_NE(result.exit_code, 0);
    const std::string stdout_text = read_text(art / "stdout");
    EXPECT_NE(stdout_text.find("the job fails here"), std::string::npos) << stdout_text;
    // The task did try the worker's stdout (the worker is pid 1), and could not write it.
    std::string tried;
    for (const auto& event : load_job_events(art)) {
        tried += event.dump();
    }
    EXPECT_NE(tried.find("tried /proc/1/fd/1"), std::string::npos) << tried;
    EXPECT_EQ(tried.find("wrote /proc/1/fd/1"), std::string::npos) << tried;
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
}

TEST_F(ContainerWorker, MissingImageIsAClearErrorBeforeAnythingIsWritten) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    const std::string ident = unique_ident("noimage");
    auto argv = worker_run(pdd, ident);
    argv[9] = "localhost/arunner-no-such-image";
    const auto before = tree_of(pdd);
    auto result = run_command(argv);
    EXPECT_EQ(tree_of(pdd), before) << "something was written";
    EXPECT_NE(result.exit_code, 0);
    // Not present, so pulled (policy missing) from a registry that is not there.
    EXPECT_NE(result.err.find("pulling container image 'localhost/arunner-no-such-image' from "
                              "localhost failed: the registry is unreachable"),
              std::string::npos)
        << result.err;
    EXPECT_FALSE(fs::exists(pdd / "artifacts" / ident)) << "ART was created";
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(ContainerWorker, MissingSocketIsAClearErrorBeforeAnythingIsWritten) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    const std::string ident = unique_ident("nosocket");
    auto argv = worker_run(pdd, ident);
    argv[11] = (dir / "no-such.sock").string();
    const auto before = tree_of(pdd);
    auto result = run_command(argv);
    EXPECT_EQ(tree_of(pdd), before) << "something was written";
    EXPECT_NE(result.exit_code, 0);
    EXPECT_NE(result.err.find((dir / "no-such.sock").string()), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(pdd / "artifacts" / ident)) << "ART was created";
    EXPECT_EQ(containers_of(ident), 0u);
}

TEST_F(ContainerWorker, JobTimeoutIsRc254AndLeavesNoContainer) {
    TempDir dir;
    const std::string ident = unique_ident("timeout");
    CommandResult result;
    auto art = run_into_the_job_timeout(dir, ident, result);
    EXPECT_EQ(read_text(art / "rc"), "254") << result.err;
    EXPECT_EQ(result.exit_code, 254) << result.err;
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
}

// The worker inside takes the controller's stop (SIGTERM) as a cancel and may still end its
// stream properly (status canceled, eof): the controller's own timeout decides the status.
TEST_F(ContainerWorker, JobTimeoutIsStatusTimeout) {
    TempDir dir;
    const std::string ident = unique_ident("timeoutstatus");
    CommandResult result;
    auto art = run_into_the_job_timeout(dir, ident, result);
    EXPECT_EQ(read_text(art / "status"), "timeout") << result.err;
    EXPECT_EQ(read_text(art / "rc"), "254");
    EXPECT_EQ(containers_of(ident), 0u) << "a container was left behind";
}

TEST_F(ContainerWorker, ApiCallbacksSeeTheWorkersEventsAndStatuses) {
    TempDir dir;
    auto pdd = copy_fixture("hello", dir);
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = unique_ident("api");
    options.quiet = true;
    options.container_worker = true;
    options.container_image = kImage;
    options.container_engine_socket = service_->socket().string();
    options.process_isolation_executable = TestEngine::name();
    std::vector<Json> handled;
    std::vector<JobStatus> statuses;
    RunCallbacks callbacks;
    callbacks.event_handler = [&](Json& event) {
        handled.push_back(event);
        return true;
    };
    callbacks.status_handler = [&](const StatusUpdate& update) {
        statuses.push_back(update.status);
    };
    auto runner = run(options, callbacks);
    ASSERT_TRUE(runner.ok()) << runner.error().message;
    EXPECT_EQ((*runner)->error_message(), "");
    EXPECT_EQ((*runner)->status(), JobStatus::successful);
    EXPECT_EQ((*runner)->rc(), std::optional<int>(0));
    EXPECT_EQ(statuses, (std::vector<JobStatus>{JobStatus::starting, JobStatus::running,
                                                JobStatus::successful}));
    auto events = (*runner)->events();
    ASSERT_GT(events.size(), 5u);
    ASSERT_EQ(handled.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(handled[i].value("uuid", ""), events[i].value("uuid", "")) << i;
        EXPECT_EQ(events[i].value("counter", 0), static_cast<int>(i + 1));
    }
    EXPECT_EQ(events.back().value("event", ""), "playbook_on_stats");
    ASSERT_TRUE((*runner)->stats().has_value());
    EXPECT_EQ((*runner)->stats()->value("ok", Json::object()).value("localhost", 0), 2);
    bool hello = false;
    for (const auto& event : events) {
        hello = hello || event.value("stdout", "").find("hello from arunner") != std::string::npos;
    }
    EXPECT_TRUE(hello);
    EXPECT_EQ(containers_of(options.ident), 0u) << "a container was left behind";
}

}  // namespace
}  // namespace arunner::testing
