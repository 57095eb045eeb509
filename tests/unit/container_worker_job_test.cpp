// run_worker_container against an in-memory engine and a fake clock: the job stream goes into
// the container's stdin, the worker stream that comes back becomes events, statuses and the
// outcome, and every way such a job can end (a clean eof, a failed engine call, a cut or hostile
// stream, a timeout, a cancel, a handler that throws) says what happened and leaves no
// container. Nothing sleeps; timeouts fire on the fake clock.

#include "runner/container_worker_job.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/fake_clock.hpp"
#include "../support/in_memory_engine.hpp"
#include "../support/temp_dir.hpp"
#include "isolation/container_spec.hpp"
#include "util/files.hpp"

namespace arunner::runner {
namespace {

namespace fs = std::filesystem;
using testing::ContainerProcess;
using testing::InMemoryEngine;

/// One event line of a worker stream, as a worker writes it.
std::string event_line(int counter, const std::string& name, const std::string& stdout_text) {
    return "{\"uuid\": \"00000000-0000-4000-8000-00000000000" + std::to_string(counter) +
           "\", \"counter\": " + std::to_string(counter) + ", \"stdout\": \"" + stdout_text +
           "\", \"start_line\": 0, \"end_line\": 1, \"runner_ident\": \"job1\", \"event\": \"" +
           name + "\", \"created\": \"2026-11-30T00:00:00+00:00\"}\n";
}

std::string status_line(const std::string& status) {
    return "{\"status\": \"" + status + "\", \"runner_ident\": \"job1\"}\n";
}

/// A worker that reads the whole job stream, then answers with `answer`.
testing::ContainerProgram worker_answering(std::string answer, int exit_code = 0) {
    return [answer = std::move(answer), exit_code](ContainerProcess& c) {
        (void)c.read_stdin_to_end();
        c.write_stdout(answer);
        return exit_code;
    };
}

class ContainerWorkerJob : public ::testing::Test {
  protected:
    ContainerWorkerJob() {
        fs::create_directories(pdd.path() / "project");
        std::ofstream(pdd.path() / "project" / "site.yml") << "- hosts: all\n";
        options.private_data_dir = pdd.path();
        options.playbook = "site.yml";
        options.ident = "job1";
        options.container_worker = true;
        options.container_image = "localhost/arunner-ee";
        auto prepared_job = config::prepare_job(options);
        EXPECT_TRUE(prepared_job.ok()) << prepared_job.error().message;
        job = *prepared_job;
        auto owned = std::make_unique<InMemoryEngine>();
        engine = owned.get();
        prepared.engine = std::move(owned);
        prepared.socket = "/run/in-memory/podman.sock";
        auto spec = isolation::make_worker_container_spec(job);
        EXPECT_TRUE(spec.ok());
        prepared.spec = *spec;
        hooks.console_fd = -1;
        hooks.on_worker_status = [this](const StatusUpdate& update) {
            statuses.emplace_back(to_string(update.status));
        };
        hooks.on_status = [this](JobStatus status) {
            statuses.push_back("controller:" + std::string(to_string(status)));
        };
        hooks.on_event_written = [this](const fs::path& file) { written.push_back(file); };
    }

    Result<JobOutcome> run() { return run_worker_container(prepared, options, job, hooks, clock); }

    /// Nothing of the job's container is left, and it was created once.
    void expect_removed() {
        EXPECT_EQ(engine->created_specs().size(), 1u);
        EXPECT_TRUE(engine->containers_left().empty());
        EXPECT_EQ(engine->removed_ids().size(), 1u);
    }

    std::string art_file(const std::string& name) const {
        auto text = util::read_file(job.artifact_dir / name);
        return text ? *text : "(none)";
    }

    testing::TempDir pdd;
    RunOptions options;
    config::JobConfig job;
    InMemoryEngine* engine = nullptr;
    isolation::PreparedContainer prepared;
    testing::FakeClock clock;
    JobHooks hooks;
    std::vector<std::string> statuses;
    std::vector<fs::path> written;
};

TEST_F(ContainerWorkerJob, EofEndsTheJobWithTheWorkersStatusAndEvents) {
    engine->set_program(worker_answering(status_line("starting") + status_line("running") +
                                         event_line(1, "playbook_on_start", "") +
                                         event_line(2, "runner_on_ok", "ok: [localhost]") +
                                         status_line("successful") + "{\"eof\": true}\n"));
    auto outcome = run();
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->status, JobStatus::successful);
    EXPECT_EQ(outcome->rc, 0);
    EXPECT_EQ(statuses, (std::vector<std::string>{"starting", "running", "successful"}));
    ASSERT_EQ(written.size(), 2u);
    EXPECT_TRUE(fs::exists(written[0]));
    EXPECT_EQ(written[0].filename().string(), "1-00000000-0000-4000-8000-000000000001.json");
    // The job went in on stdin: kwargs with this ident, the zipped private data dir, eof.
    const auto ids = engine->removed_ids();
    ASSERT_EQ(ids.size(), 1u);
    const std::string in = engine->stdin_received(ids[0]);
    EXPECT_TRUE(in.starts_with("{\"kwargs\": {\"ident\": \"job1\"")) << in.substr(0, 80);
    EXPECT_NE(in.find("{\"zipfile\": "), std::string::npos);
    EXPECT_TRUE(in.ends_with("{\"eof\": true}\n"));
    EXPECT_EQ(art_file(isolation::kContainerIdFile), ids[0] + "\n");
    expect_removed();
}

// The registry credentials pull the worker's image on the controller; they never enter the
// container (its job cannot use them).
TEST_F(ContainerWorkerJob, RegistryCredentialsStayOnTheController) {
    options.container_auth_data = ContainerAuthData{"quay.io", "robot", "s3cret-of-the-controller"};
    engine->set_program(worker_answering(status_line("successful") + "{\"eof\": true}\n"));
    auto outcome = run();
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    const auto ids = engine->removed_ids();
    ASSERT_EQ(ids.size(), 1u);
    const std::string in = engine->stdin_received(ids[0]);
    EXPECT_TRUE(in.starts_with("{\"kwargs\": {")) << in.substr(0, 80);
    EXPECT_EQ(in.find("s3cret-of-the-controller"), std::string::npos);
    EXPECT_EQ(in.find("container_auth_data"), std::string::npos);
}

TEST_F(ContainerWorkerJob, FailedEngineCallsAreErrorsAndLeaveNoContainer) {
    for (const char* method : {"create", "attach", "start"}) {
        SCOPED_TRACE(method);
        auto owned = std::make_unique<InMemoryEngine>();
        engine = owned.get();
        prepared.engine = std::move(owned);
        engine->set_program(worker_answering(status_line("successful") + "{\"eof\": true}\n"));
        engine->fail_next(method, Error{std::string("the engine refused ") + method});
        auto outcome = run();
        ASSERT_FALSE(outcome.ok());
        EXPECT_NE(outcome.error().message.find(std::string("the engine refused ") + method),
                  std::string::npos)
            << outcome.error().message;
        EXPECT_TRUE(engine->containers_left().empty());
    }
}

TEST_F(ContainerWorkerJob, CutStreamIsAnErrorThatSaysWhatTheEngineReports) {
    engine->set_program([](ContainerProcess& c) {
        (void)c.read_stdin_to_end();
        c.write_stdout(status_line("starting") + status_line("running"));
        c.write_stderr("MemoryError: the worker ran out of memory\n");
        c.oom_kill();
        return 0;
    });
    auto outcome = run();
    ASSERT_FALSE(outcome.ok());
    const std::string& message = outcome.error().message;
    EXPECT_NE(message.find("The worker stream was cut"), std::string::npos) << message;
    EXPECT_NE(message.find("exited with code 137"), std::string::npos) << message;
    EXPECT_NE(message.find("OOMKilled"), std::string::npos) << message;
    EXPECT_NE(message.find("MemoryError: the worker ran out of memory"), std::string::npos)
        << message;
    expect_removed();
}

TEST_F(ContainerWorkerJob, HostileLineEndsTheJobAndTheContainerThatKeepsTalking) {
    engine->set_program([](ContainerProcess& c) {
        (void)c.read_stdin_to_end();
        c.write_stdout("this is not JSON\n");
        c.wait_until_killed();  // and says nothing more
        return 0;
    });
    auto outcome = run();
    ASSERT_FALSE(outcome.ok());
    EXPECT_NE(outcome.error().message.find("Failed to JSON parse"), std::string::npos)
        << outcome.error().message;
    expect_removed();
}

TEST_F(ContainerWorkerJob, JobTimeoutStopsTheContainer) {
    job.job_timeout = 30;
    engine->set_program([](ContainerProcess& c) {
        (void)c.read_stdin_to_end();
        c.write_stdout(status_line("starting") + status_line("running"));
        c.wait_until_killed();
        return 0;
    });
    auto outcome = run();
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->status, JobStatus::timeout);
    EXPECT_TRUE(outcome->timed_out);
    EXPECT_EQ(outcome->rc, kRcCanceledOrTimeout);
    EXPECT_EQ(art_file("status"), "timeout");
    EXPECT_EQ(art_file("rc"), "254");
    // The fake clock fires the timeout at once, maybe before the worker's first status: the
    // controller's status comes last, and no `error` is made up for the stream it stopped.
    ASSERT_FALSE(statuses.empty());
    EXPECT_EQ(statuses.back(), "controller:timeout");
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), "error"), 0);
    expect_removed();
}

TEST_F(ContainerWorkerJob, CancelFdStopsTheContainer) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    util::UniqueFd read_end(fds[0]);
    util::UniqueFd write_end(fds[1]);
    ASSERT_EQ(::write(write_end.get(), "x", 1), 1);
    hooks.cancel_fds = {read_end.get()};
    engine->set_program([](ContainerProcess& c) {
        (void)c.read_stdin_to_end();
        c.wait_until_killed();
        return 0;
    });
    auto outcome = run();
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->status, JobStatus::canceled);
    EXPECT_TRUE(outcome->canceled);
    EXPECT_EQ(art_file("status"), "canceled");
    expect_removed();
}

TEST_F(ContainerWorkerJob, CancelCallbackIsAskedWhileTheStreamIsQuiet) {
    int asked = 0;
    job.pexpect_timeout = 0.01;  // how often a quiet stream asks (real time: keep it short)
    hooks.should_cancel = [&] { return ++asked >= 2; };
    engine->set_program([](ContainerProcess& c) {
        (void)c.read_stdin_to_end();
        c.write_stdout(status_line("running"));
        c.wait_until_killed();
        return 0;
    });
    auto outcome = run();
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->status, JobStatus::canceled);
    EXPECT_GE(asked, 2);
    expect_removed();
}

TEST_F(ContainerWorkerJob, EventHandlerThatThrowsEndsTheJobInAnError) {
    hooks.event_handler = [](nlohmann::ordered_json&) -> bool {
        throw std::runtime_error("the handler broke");
    };
    engine->set_program([](ContainerProcess& c) {
        (void)c.read_stdin_to_end();
        c.write_stdout(status_line("running") + event_line(1, "playbook_on_start", ""));
        c.wait_until_killed();
        return 0;
    });
    auto outcome = run();
    ASSERT_FALSE(outcome.ok());
    EXPECT_NE(outcome.error().message.find("the handler broke"), std::string::npos)
        << outcome.error().message;
    expect_removed();
}

TEST_F(ContainerWorkerJob, WorkersErrorStatusIsTheJobsError) {
    engine->set_program(worker_answering(
        "{\"status\": \"error\", \"job_explanation\": \"no playbook\"}\n{\"eof\": true}\n", 1));
    auto outcome = run();
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.error().message, "no playbook");
    expect_removed();
}

}  // namespace
}  // namespace arunner::runner
