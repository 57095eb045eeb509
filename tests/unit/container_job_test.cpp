// run_container against an in-memory engine and a fake clock: every way a container job can end
// (a clean exit, a failed engine call, a broken stream, a timeout, a cancel) reports what
// happened and leaves no container behind. No real time passes and nothing sleeps: the engine's
// start() returns once the container's program has written its output and blocked, and the
// timeouts fire on the fake clock.

#include "isolation/container_job.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../support/fake_clock.hpp"
#include "../support/in_memory_engine.hpp"
#include "../support/temp_dir.hpp"
#include "isolation/container_sweep.hpp"
#include "util/files.hpp"

namespace arunner::isolation {
namespace {

using testing::ContainerProcess;
using testing::InMemoryEngine;
using namespace std::chrono_literals;

/// Collects the output; `hook` sees each chunk as it comes (a callback of the job).
class CollectingSink final : public exec::OutputSink {
  public:
    void on_output(OutputStream stream, std::string_view bytes) override {
        (stream == OutputStream::out ? out : err).append(bytes);
        if (hook) {
            hook(bytes);
        }
    }
    std::string out;
    std::string err;
    std::function<void(std::string_view)> hook;
};

/// A pipe whose read end is a cancel fd.
class CancelPipe {
  public:
    CancelPipe() {
        int fds[2] = {-1, -1};
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        read_.reset(fds[0]);
        write_.reset(fds[1]);
    }
    void request() const { ASSERT_EQ(::write(write_.get(), "x", 1), 1); }
    int fd() const { return read_.get(); }

  private:
    util::UniqueFd read_;
    util::UniqueFd write_;
};

/// A command that hangs until the engine kills or stops it, after writing `first`.
testing::ContainerProgram hangs_after(std::string first) {
    return [first = std::move(first)](ContainerProcess& c) {
        c.write_stdout(first);
        c.wait_until_killed();
        return 0;
    };
}

class ContainerJob : public ::testing::Test {
  protected:
    ContainerJob() {
        auto owned = std::make_unique<InMemoryEngine>();
        engine = owned.get();
        prepared.engine = std::move(owned);
        prepared.socket = "/run/in-memory/podman.sock";
        prepared.spec.name = "ansible_runner_container_job_test";
        prepared.spec.image = "localhost/arunner-ee:latest";
        prepared.spec.cmd = {"ansible-playbook", "site.yml"};
        prepared.spec.labels = {{"arunner.test", "container_job"}};
        limits.clock = &clock;
    }

    Result<exec::Supervision> run(std::vector<int> cancel_fds = {},
                                  const exec::CancelCheck& should_cancel = {}) {
        return run_container(prepared, art.path(), sink, limits, cancel_fds, should_cancel);
    }

    /// The one container the job created.
    std::string created_id() const {
        auto specs = engine->created_specs();
        EXPECT_EQ(specs.size(), 1u);
        auto info = engine->container(prepared.spec.name);
        return info ? info->id : std::string();
    }

    /// ART/container_id, or "(none)".
    std::string container_id_file() const {
        auto text = util::read_file(art / kContainerIdFile);
        return text ? *text : "(none)";
    }

    /// The job's container was created, its id written to ART, and it is gone.
    void expect_created_and_removed() {
        const std::string id = created_id();
        ASSERT_FALSE(id.empty());
        EXPECT_EQ(container_id_file(), id + "\n");
        EXPECT_TRUE(engine->containers_left().empty());
        EXPECT_EQ(engine->removed_ids(), std::vector<std::string>{id});
    }

    bool called(const std::string& method) const {
        auto calls = engine->calls();
        return std::find(calls.begin(), calls.end(), method) != calls.end();
    }

    InMemoryEngine* engine = nullptr;
    PreparedContainer prepared;
    testing::TempDir art;
    testing::FakeClock clock;
    exec::SupervisionLimits limits;
    CollectingSink sink;
};

TEST_F(ContainerJob, CleanExitHandsOverOutputAndRemovesTheContainer) {
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("PLAY [all]\n");
        c.write_stderr("a warning\n");
        c.write_stdout("PLAY RECAP\n");
        return 2;
    });
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->exit_code(), 2);
    EXPECT_FALSE(result->timed_out);
    EXPECT_FALSE(result->canceled);
    EXPECT_EQ(sink.out, "PLAY [all]\nPLAY RECAP\n");
    EXPECT_EQ(sink.err, "a warning\n");
    expect_created_and_removed();
    EXPECT_FALSE(called("stop"));
    EXPECT_FALSE(engine->was_killed(created_id()));
    // Attached before start, so no output can be missed; the spec went through unchanged.
    auto calls = engine->calls();
    auto at = [&](const std::string& m) { return std::find(calls.begin(), calls.end(), m); };
    EXPECT_LT(at("create"), at("attach"));
    EXPECT_LT(at("attach"), at("start"));
    EXPECT_LT(at("start"), at("remove"));
    ASSERT_EQ(engine->created_specs().size(), 1u);
    EXPECT_EQ(engine->created_specs()[0].cmd, prepared.spec.cmd);
}

TEST_F(ContainerJob, TtyOutputIsRawAndMerged) {
    prepared.spec.tty = true;
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("out ");
        c.write_stderr("err\n");
        return 0;
    });
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->exit_code(), 0);
    EXPECT_EQ(sink.out, "out err\n");
    EXPECT_EQ(sink.err, "");
    expect_created_and_removed();
}

TEST_F(ContainerJob, CreateFailureIsReportedAndNothingIsLeft) {
    engine->fail_next("create", Error{"POST /containers/create: 500: storage is full"});
    auto result = run();
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("storage is full"), std::string::npos)
        << result.error().message;
    EXPECT_TRUE(engine->created_specs().empty());
    EXPECT_TRUE(engine->containers_left().empty());
    EXPECT_FALSE(called("attach"));
    EXPECT_FALSE(called("start"));
    EXPECT_EQ(container_id_file(), "(none)");
}

TEST_F(ContainerJob, NameInUseSaysWhoseContainerHoldsIt) {
    engine::ContainerSpec other = prepared.spec;
    other.labels.clear();  // not arunner's: no controller label
    auto holder = engine->create(other);
    ASSERT_TRUE(holder.ok());
    auto result = run();
    ASSERT_FALSE(result.ok());
    const std::string& message = result.error().message;
    EXPECT_NE(message.find("the container name " + prepared.spec.name + " is already in use"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(holder->substr(0, 12)), std::string::npos) << message;
    // The other container is not ours to remove; nothing of this job exists.
    EXPECT_EQ(engine->containers_left(), std::vector<std::string>{*holder});
    EXPECT_TRUE(engine->removed_ids().empty());
    EXPECT_EQ(container_id_file(), "(none)");
}

TEST_F(ContainerJob, ArtifactDirectoryFailureRemovesTheContainer) {
    testing::TempDir parent;
    const auto missing = parent / "no-such-art";
    auto result = run_container(prepared, missing, sink, limits, {}, {});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(engine->created_specs().size(), 1u);
    EXPECT_TRUE(engine->containers_left().empty());
    EXPECT_EQ(engine->removed_ids().size(), 1u);
    EXPECT_FALSE(called("start"));
}

TEST_F(ContainerJob, AttachFailureRemovesTheContainer) {
    engine->fail_next("attach", Error{"POST /containers/x/attach: 500: attach refused"});
    auto result = run();
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("attach refused"), std::string::npos)
        << result.error().message;
    expect_created_and_removed();
    EXPECT_FALSE(called("start"));
}

TEST_F(ContainerJob, StartFailureRemovesTheContainer) {
    engine->fail_next("start", Error{"POST /containers/x/start: 500: OCI runtime error"});
    auto result = run();
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("OCI runtime error"), std::string::npos)
        << result.error().message;
    EXPECT_EQ(sink.out, "");
    expect_created_and_removed();
}

TEST_F(ContainerJob, WaitFailureIsReportedAndTheRunningContainerRemoved) {
    // The engine is asked only when the output ends without an exit frame.
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("partial\n");
        c.break_stream();
        c.wait_until_killed();
        return 0;
    });
    engine->fail_next("wait", Error{"POST /containers/x/wait: connection reset"});
    auto result = run();
    ASSERT_FALSE(result.ok());
    const std::string id = created_id();
    EXPECT_NE(result.error().message.find("waiting for container " + id), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("connection reset"), std::string::npos);
    EXPECT_EQ(sink.out, "partial\n");
    expect_created_and_removed();
    EXPECT_TRUE(engine->was_killed(id));  // the forced remove ended the hung command
}

TEST_F(ContainerJob, EngineErrorFrameMidOutputIsAnError) {
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("TASK [one]\n");
        c.write_engine_error("container storage went away");
        c.write_stdout("never seen\n");
        return 0;
    });
    auto result = run();
    ASSERT_FALSE(result.ok());
    const std::string id = created_id();
    EXPECT_NE(result.error().message.find("reading the output of container " + id),
              std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("container storage went away"), std::string::npos);
    EXPECT_EQ(sink.out, "TASK [one]\n");
    expect_created_and_removed();
}

TEST_F(ContainerJob, StreamCutInsideAFrameIsAnError) {
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("TASK [one]\n");
        const std::string frame = engine::encode_stream_frame(OutputStream::out, "TASK [two]\n");
        c.write_raw(frame.substr(0, frame.size() - 4));
        c.break_stream();
        return 0;
    });
    auto result = run();
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("reading the output of container " + created_id()),
              std::string::npos)
        << result.error().message;
    // The part of the cut frame that arrived is handed on; nothing after it.
    EXPECT_EQ(sink.out, "TASK [one]\nTASK [t");
    expect_created_and_removed();
}

// The attach stream breaks while the command goes on (the engine's side of the connection
// failed; wait() still blocks): the broken stream ends the job at once with an error naming it,
// and the container is stopped and removed (not left running until a timeout).
TEST_F(ContainerJob, StreamBrokenWhileTheCommandRunsEndsTheJob) {
    // No job timeout: on the fake clock it would fire while the stopped container's exit is
    // still on its way (ctest's timeout guards against a hang).
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("TASK [one]\n");
        c.write_engine_error("attach connection lost");
        c.wait_until_killed();
        return 0;
    });
    auto result = run();
    ASSERT_FALSE(result.ok()) << "timed_out=" << result->timed_out;
    EXPECT_NE(result.error().message.find("attach connection lost"), std::string::npos)
        << result.error().message;
    EXPECT_EQ(sink.out, "TASK [one]\n");
    expect_created_and_removed();
}

TEST_F(ContainerJob, StreamBrokenWhileTheCommandRunsStillTimesOutAndRemoves) {
    limits.job_timeout = 10s;
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("TASK [one]\n");
        c.break_stream();
        c.wait_until_killed();
        return 0;
    });
    const auto started = clock.now();
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->timed_out);
    EXPECT_GE(clock.now() - started, 10s);
    EXPECT_EQ(sink.out, "TASK [one]\n");
    expect_created_and_removed();
    EXPECT_TRUE(called("stop"));
}

TEST_F(ContainerJob, JobTimeoutStopsAndRemovesAHungContainer) {
    limits.job_timeout = 10s;
    engine->set_program(hangs_after("TASK [wait forever]\n"));
    const auto started = clock.now();
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->timed_out);
    EXPECT_FALSE(result->canceled);
    EXPECT_EQ(result->exit_code(), 137);  // as podman reports a stopped container
    EXPECT_GE(clock.now() - started, 10s);
    EXPECT_EQ(sink.out, "TASK [wait forever]\n");
    expect_created_and_removed();
    EXPECT_TRUE(called("stop"));
    EXPECT_TRUE(engine->was_killed(created_id()));
}

TEST_F(ContainerJob, IdleTimeoutStopsAndRemovesASilentContainer) {
    limits.idle_timeout = 30s;
    engine->set_program(hangs_after("TASK [silent]\n"));
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->timed_out);
    EXPECT_EQ(sink.out, "TASK [silent]\n");
    expect_created_and_removed();
    EXPECT_TRUE(called("stop"));
}

TEST_F(ContainerJob, StopFailureFallsBackToKill) {
    limits.job_timeout = 10s;
    engine->set_program(hangs_after(""));
    engine->fail_always("stop", Error{"POST /containers/x/stop: 500: timed out"});
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->timed_out);
    EXPECT_TRUE(called("kill"));
    EXPECT_EQ(result->exit_code(), 128 + SIGKILL);
    expect_created_and_removed();
}

TEST_F(ContainerJob, ReadableCancelFdStopsAndRemovesTheContainer) {
    engine->set_program(hangs_after("TASK [long]\n"));
    CancelPipe cancel;
    cancel.request();
    auto result = run({-1, cancel.fd()});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->canceled);
    EXPECT_FALSE(result->timed_out);
    expect_created_and_removed();
    EXPECT_TRUE(called("stop"));
    EXPECT_TRUE(engine->was_killed(created_id()));
}

// A callback that throws (an event handler, say) fails the job by making a cancel fd readable
// (runner.cpp catches it); here the sink does that on seeing the output that triggers it.
TEST_F(ContainerJob, FailingCallbackMidOutputCancelsAndRemoves) {
    CancelPipe cancel;
    sink.hook = [&](std::string_view bytes) {
        if (bytes.find("boom") != std::string_view::npos) {
            cancel.request();
        }
    };
    engine->set_program(hangs_after("TASK [boom]\n"));
    auto result = run({cancel.fd()});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->canceled);
    EXPECT_EQ(sink.out, "TASK [boom]\n");
    expect_created_and_removed();
}

TEST_F(ContainerJob, ShouldCancelStopsAndRemovesTheContainer) {
    limits.poll_interval = 5s;
    engine->set_program(hangs_after("TASK [long]\n"));
    std::atomic<int> asked{0};
    auto result = run({}, [&] { return ++asked >= 2; });
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->canceled);
    EXPECT_EQ(asked.load(), 2);
    EXPECT_EQ(sink.out, "TASK [long]\n");
    expect_created_and_removed();
    EXPECT_TRUE(called("stop"));
}

TEST_F(ContainerJob, ShouldCancelFalseLetsTheJobFinish) {
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("done\n");
        return 0;
    });
    auto result = run({}, [] { return false; });
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_FALSE(result->canceled);
    EXPECT_EQ(result->exit_code(), 0);
    expect_created_and_removed();
    EXPECT_FALSE(called("stop"));
}

TEST_F(ContainerJob, OomKilledContainerExitsWith137) {
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("TASK [big]\n");
        c.oom_kill();
        return 0;
    });
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->exit_code(), 137);
    EXPECT_FALSE(result->timed_out);
    EXPECT_EQ(sink.out, "TASK [big]\n");
    auto info = engine->container(created_id());
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->oom_killed);
    expect_created_and_removed();
}

TEST_F(ContainerJob, RemoveFailureIsReportedWithTheContainerId) {
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("ok\n");
        return 0;
    });
    engine->fail_next("remove", Error{"DELETE /containers/x: 500: device or resource busy"});
    auto result = run();
    ASSERT_FALSE(result.ok());
    const std::string id = created_id();
    EXPECT_NE(result.error().message.find("removing container " + id), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("device or resource busy"), std::string::npos);
    EXPECT_EQ(sink.out, "ok\n");
    // The user is told which container is left; it is not running.
    EXPECT_EQ(engine->containers_left(), std::vector<std::string>{id});
    EXPECT_FALSE(engine->container(id)->running);
}

TEST_F(ContainerJob, LargeOutputArrivesWholeAndInOrder) {
    // More than the socket holds, so the command blocks on the reader, interleaved streams.
    std::string expected_out;
    std::string expected_err;
    for (int i = 0; i < 64; ++i) {
        expected_out += std::string(size_t{16} * 1024, static_cast<char>('a' + i % 26));
        expected_err += "line " + std::to_string(i) + "\n";
    }
    engine->set_program([](ContainerProcess& c) {
        for (int i = 0; i < 64; ++i) {
            if (!c.write_stdout(std::string(size_t{16} * 1024, static_cast<char>('a' + i % 26))) ||
                !c.write_stderr("line " + std::to_string(i) + "\n")) {
                return 99;
            }
        }
        return 0;
    });
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->exit_code(), 0);
    EXPECT_EQ(sink.out.size(), expected_out.size());
    EXPECT_TRUE(sink.out == expected_out);
    EXPECT_EQ(sink.err, expected_err);
    expect_created_and_removed();
}

// A container of a dead arunner (SIGKILLed, say) that holds this job's name is swept before
// create, so the re-run with the same ident works.
TEST_F(ContainerJob, OrphanHoldingTheNameIsSweptFirst) {
    auto me = this_controller();
    ASSERT_TRUE(me.ok()) << me.error().message;
    ControllerId dead = *me;
    dead.start_time += 1;  // the pid now belongs to a process that started later: gone
    engine::ContainerSpec orphan = prepared.spec;
    orphan.labels = {{kControllerLabel, format_controller_label(dead)}};
    auto orphan_id = engine->create(orphan);
    ASSERT_TRUE(orphan_id.ok());
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("ran\n");
        return 0;
    });
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->exit_code(), 0);
    EXPECT_EQ(sink.out, "ran\n");
    EXPECT_TRUE(engine->containers_left().empty());
    auto removed = engine->removed_ids();
    ASSERT_EQ(removed.size(), 2u);
    EXPECT_EQ(removed[0], *orphan_id);
    EXPECT_EQ(container_id_file(), removed[1] + "\n");
}

// The name is held by the container of a job this very (live) arunner runs: not swept, and the
// error says so.
TEST_F(ContainerJob, NameHeldByALiveJobIsNotSweptAndTheErrorSaysWhose) {
    auto me = this_controller();
    ASSERT_TRUE(me.ok()) << me.error().message;
    engine::ContainerSpec live = prepared.spec;
    live.labels = {{kControllerLabel, format_controller_label(*me)}};
    auto live_id = engine->create(live);
    ASSERT_TRUE(live_id.ok());
    auto result = run();
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("the container of another job run by arunner (pid " +
                                          std::to_string(me->pid) + "), still running"),
              std::string::npos)
        << result.error().message;
    EXPECT_EQ(engine->containers_left(), std::vector<std::string>{*live_id});
}

TEST_F(ContainerJob, FailedSweepDoesNotStopTheJob) {
    engine->fail_always("list", Error{"GET /containers/json: 500: database is locked"});
    engine->set_program([](ContainerProcess& c) {
        c.write_stdout("ran\n");
        return 0;
    });
    auto result = run();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(sink.out, "ran\n");
    EXPECT_TRUE(called("list"));
    expect_created_and_removed();
}

// The fake itself: stdin reaches the program, and its end is EOF (pipes and tty).
TEST(InMemoryEngine, StdinReachesTheProgramAndEndsWithTheStream) {
    for (bool tty : {false, true}) {
        InMemoryEngine engine;
        engine.set_program([](ContainerProcess& c) {
            c.write_stdout("got " + c.read_stdin_to_end());
            return 7;
        });
        engine::ContainerSpec spec;
        spec.image = "img";
        spec.tty = tty;
        auto id = engine.create(spec);
        ASSERT_TRUE(id.ok());
        auto stream = engine.attach(*id);
        ASSERT_TRUE(stream.ok());
        ASSERT_TRUE(engine.start(*id).ok());
        ASSERT_TRUE(stream->write_stdin("hello\n").ok());
        ASSERT_TRUE(stream->close_stdin().ok());
        auto code = engine.wait(*id);
        ASSERT_TRUE(code.ok());
        EXPECT_EQ(*code, 7);
        std::string raw;
        char buffer[256];
        for (;;) {
            auto n = stream->read(buffer);
            ASSERT_TRUE(n.ok());
            if (*n == 0) {
                break;
            }
            raw.append(buffer, *n);
        }
        EXPECT_EQ(raw, tty ? std::string("got hello\n")
                           : engine::encode_stream_frame(OutputStream::out, "got hello\n"));
        EXPECT_EQ(engine.stdin_received(*id), "hello\n");
        ASSERT_TRUE(engine.remove(*id, false).ok());
        EXPECT_TRUE(engine.containers_left().empty());
    }
}

TEST(InMemoryEngine, RunningContainerNeedsForceToRemoveAndImagesAreScripted) {
    InMemoryEngine engine;
    engine.set_images({"present"});
    EXPECT_TRUE(*engine.image_exists("present"));
    EXPECT_FALSE(*engine.image_exists("absent"));
    engine.set_program(hangs_after("x"));
    engine::ContainerSpec spec;
    spec.image = "present";
    auto id = engine.create(spec);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(engine.start(*id).ok());
    EXPECT_FALSE(engine.remove(*id, false).ok());
    ASSERT_TRUE(engine.kill(*id, SIGTERM).ok());
    EXPECT_EQ(*engine.wait(*id), 128 + SIGTERM);
    EXPECT_TRUE(engine.remove(*id, false).ok());
    EXPECT_TRUE(engine.remove(*id, false).ok());  // gone already: fine
    spec.image = "absent";
    EXPECT_FALSE(engine.create(spec).ok());
}

}  // namespace
}  // namespace arunner::isolation
