// src/engine/ against a real engine: podman 4.3 (a private `podman system service`) or, in the
// docker run, Debian's dockerd 20.10 (the `dockerd` ctest fixture; support/podman_service.hpp
// chooses). The test builds a tiny local image if it is missing (no registry here: host binaries
// and their libraries, imported), and drives containers through RestContainerEngine in the
// engine's own dialect: create, attach before start, demultiplexed output, stdin with
// half-close, wait, kill, remove, list by label, and the service's CPU while a wait is held open.
//
// Needs root, podman, runc and /etc/containers/containers.conf as MACHINE.md describes (and
// docker.io for the docker run).

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "engine/rest_container_engine.hpp"
#include "support/command.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::engine {
namespace {

using namespace std::chrono_literals;

constexpr const char* kImage = "localhost/arunner-test-tiny";

/// The shell script that builds kImage from the host's own binaries (a few MB); "$CLI" is the
/// engine's command line.
constexpr const char* kBuildImage = R"(set -e
files=$(for b in /bin/sh /bin/cat /bin/echo /bin/sleep /bin/true; do
  echo "${b#/}"; ldd "$b" | grep -o '/[^ ]*' | sed 's|^/||'
done | sort -u)
tar -C / -ch $files | $CLI import - localhost/arunner-test-tiny >/dev/null
)";

/// User + system CPU time of `pid` so far.
std::chrono::duration<double> cpu_time(pid_t pid) {
    std::string stat = testing::read_text("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14 || i == 15) {  // utime, stime
            ticks += std::stod(field);
        }
    }
    return std::chrono::duration<double>(ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)));
}

/// The engine under test for the whole suite, and the tiny image in it.
class Engine : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        service_ = new testing::TestEngine();
        ASSERT_TRUE(service_->ok()) << service_->error();
        engine_ = &service_->engine();
        socket_ = service_->socket();
        cli_ = service_->cli();
        auto exists = engine_->image_exists(kImage);
        ASSERT_TRUE(exists.ok()) << exists.error().message;
        if (!*exists) {
            auto built = testing::run_command({"sh", "-c", kBuildImage}, {{"CLI", cli_}});
            ASSERT_EQ(built.exit_code, 0) << built.err;
        }
        label_value_ = std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr));
    }

    static void TearDownTestSuite() {
        engine_ = nullptr;
        delete service_;
        service_ = nullptr;
    }

    void SetUp() override {
        ASSERT_NE(engine_, nullptr) << (service_ != nullptr ? service_->error() : "");
    }

    void TearDown() override {
        for (const std::string& id : created_) {
            EXPECT_TRUE(engine_->remove(id, true).ok());
        }
    }

    /// A spec for kImage running `script` under sh, labelled for this run.
    ContainerSpec spec(const std::string& script) {
        ContainerSpec spec;
        spec.name =
            "ansible_runner_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++);
        spec.image = kImage;
        spec.cmd = {"/bin/sh", "-c", script};
        spec.labels = {{"arunner_test_run", label_value_}};
        spec.network_mode = "none";
        return spec;
    }

    std::string create(const ContainerSpec& spec) {
        auto id = engine_->create(spec);
        EXPECT_TRUE(id.ok()) << id.error().message;
        if (!id.ok()) {
            return "";
        }
        created_.push_back(*id);
        return *id;
    }

    /// Reads the attach stream to its end through a poll loop, as a job does.
    static Status pump(AttachStream& stream, std::string& out, std::string& err) {
        StreamDemux demux(stream.tty());
        auto sink = [&](OutputStream which, std::string_view bytes) {
            (which == OutputStream::out ? out : err).append(bytes);
        };
        char buffer[4096];
        for (;;) {
            if (!stream.has_pending()) {
                pollfd p{stream.fd(), POLLIN, 0};
                if (::poll(&p, 1, 20000) != 1) {
                    return Error{"no output within 20 s"};
                }
            }
            auto n = stream.read(buffer);
            if (!n.ok()) {
                return n.error();
            }
            if (*n == 0) {
                return demux.finish();
            }
            ARUNNER_TRY(demux.feed(std::string_view(buffer, *n), sink));
        }
    }

    static inline const EngineDialect dialect_ = testing::TestEngine::dialect();
    static inline testing::TestEngine* service_ = nullptr;
    static inline RestContainerEngine* engine_ = nullptr;
    static inline std::filesystem::path socket_;
    static inline std::string cli_;
    static inline std::string label_value_;
    static inline int counter_ = 0;
    std::vector<std::string> created_;
};

TEST_F(Engine, VersionAndImages) {
    auto version = engine_->version();
    ASSERT_TRUE(version.ok()) << version.error().message;
    EXPECT_EQ(version->is_podman, dialect_ == EngineDialect::podman);
    EXPECT_EQ(version->api_version, "1.41");
    EXPECT_TRUE(*engine_->image_exists(kImage));
    EXPECT_FALSE(*engine_->image_exists("localhost/arunner-no-such-image"));
    auto image = engine_->inspect_image(kImage);
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_GT(image->size, 0);
    auto missing = engine_->inspect_image("localhost/arunner-no-such-image");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message,
              dialect_ == EngineDialect::podman
                  ? "GET /v1.41/images/localhost/arunner-no-such-image/json: 404 failed to find "
                    "image localhost/arunner-no-such-image: localhost/arunner-no-such-image: No "
                    "such image"
                  : "GET /v1.41/images/localhost/arunner-no-such-image/json: 404 no such image: "
                    "localhost/arunner-no-such-image: No such image: "
                    "localhost/arunner-no-such-image:latest");
    auto listed = engine_->list_images();
    ASSERT_TRUE(listed.ok());
    bool found = false;
    for (const ImageInfo& info : *listed) {
        for (const std::string& tag : info.tags) {
            found = found || tag == std::string(kImage) + ":latest";
        }
    }
    EXPECT_TRUE(found);

    const std::string extra = std::string(kImage) + ":untag-me";
    auto tagged = testing::run_command({"sh", "-c", cli_ + " tag " + kImage + " " + extra});
    ASSERT_EQ(tagged.exit_code, 0) << tagged.err;
    EXPECT_TRUE(*engine_->image_exists(extra));
    auto untagged = engine_->untag_image(extra);
    ASSERT_TRUE(untagged.ok()) << untagged.error().message;
    EXPECT_FALSE(*engine_->image_exists(extra));
    EXPECT_TRUE(*engine_->image_exists(kImage));  // the image and its other tag stay
}

TEST_F(Engine, MissingImageOnCreate) {
    ContainerSpec s = spec("true");
    s.image = "localhost/arunner-no-such-image";
    auto id = engine_->create(s);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.error().message, dialect_ == EngineDialect::podman
                                      ? "POST /v1.41/containers/create: 404 no such image: "
                                        "localhost/arunner-no-such-image: image not known"
                                      : "POST /v1.41/containers/create: 404 No such image: "
                                        "localhost/arunner-no-such-image:latest");
}

TEST_F(Engine, OutputDemuxedAndExitCode) {
    ContainerSpec s = spec("echo hello; echo oops >&2; echo again; exit 3");
    std::string id = create(s);
    ASSERT_FALSE(id.empty());
    auto stream = engine_->attach(id);  // before start: nothing is missed
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    EXPECT_FALSE(stream->tty());
    ASSERT_TRUE(engine_->start(id).ok());
    std::string out, err;
    auto pumped = pump(*stream, out, err);
    ASSERT_TRUE(pumped.ok()) << pumped.error().message;
    EXPECT_EQ(out, "hello\nagain\n");
    EXPECT_EQ(err, "oops\n");
    auto code = engine_->wait(id);
    ASSERT_TRUE(code.ok()) << code.error().message;
    EXPECT_EQ(*code, 3);
    auto info = engine_->inspect(id);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->name, s.name);
    EXPECT_EQ(info->status, "exited");
    EXPECT_EQ(info->exit_code, 3);
}

TEST_F(Engine, StdinHalfCloseReachesCat) {
    ContainerSpec s = spec("cat; echo done >&2");
    s.open_stdin = true;
    s.stdin_once = true;
    std::string id = create(s);
    auto stream = engine_->attach(id);
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    ASSERT_TRUE(engine_->start(id).ok());
    std::string input;
    for (int i = 0; i < 2000; ++i) {
        input += "line " + std::to_string(i) + " of the stdin that cat copies back\n";
    }
    std::thread writer([&] {
        EXPECT_TRUE(stream->write_stdin(input).ok());
        EXPECT_TRUE(stream->close_stdin().ok());
    });
    std::string out, err;
    auto pumped = pump(*stream, out, err);
    writer.join();
    ASSERT_TRUE(pumped.ok()) << pumped.error().message;
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(err, "done\n");
    EXPECT_EQ(*engine_->wait(id), 0);
}

TEST_F(Engine, TtyIsRawAndCtrlDEndsStdin) {
    ContainerSpec s = spec("echo out; echo err >&2; cat");
    s.tty = true;
    s.open_stdin = true;
    s.stdin_once = true;
    std::string id = create(s);
    auto stream = engine_->attach(id);
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    EXPECT_TRUE(stream->tty());
    ASSERT_TRUE(engine_->start(id).ok());
    ASSERT_TRUE(stream->write_stdin("typed").ok());  // no newline: close_stdin sends 0x04 twice
    ASSERT_TRUE(stream->close_stdin().ok());
    std::string out, err;
    auto pumped = pump(*stream, out, err);
    ASSERT_TRUE(pumped.ok()) << pumped.error().message;
    EXPECT_NE(out.find("out\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("err\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("typed"), std::string::npos) << out;
    EXPECT_TRUE(err.empty());
    auto code = engine_->wait(id);
    ASSERT_TRUE(code.ok()) << code.error().message;
    EXPECT_EQ(*code, 0);
}

TEST_F(Engine, KillStopAndRemove) {
    std::string id = create(spec("exec sleep 100"));
    ASSERT_TRUE(engine_->start(id).ok());
    ASSERT_TRUE(engine_->inspect(id)->running);
    auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(engine_->kill(id, SIGKILL).ok());
    auto code = engine_->wait(id);
    ASSERT_TRUE(code.ok()) << code.error().message;
    EXPECT_EQ(*code, 128 + SIGKILL);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    EXPECT_TRUE(engine_->kill(id, SIGKILL).ok());  // not running any more: fine
    EXPECT_TRUE(engine_->stop(id, 1).ok());        // already stopped: fine

    // sleep as pid 1 ignores SIGTERM: stop() kills it after the grace period.
    std::string second = create(spec("exec sleep 100"));
    ASSERT_TRUE(engine_->start(second).ok());
    started = std::chrono::steady_clock::now();
    ASSERT_TRUE(engine_->stop(second, 1).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    EXPECT_FALSE(engine_->inspect(second)->running);

    ASSERT_TRUE(engine_->remove(id, false).ok());
    EXPECT_TRUE(engine_->remove(id, true).ok());  // already gone: fine
    auto gone = engine_->inspect(id);
    ASSERT_FALSE(gone.ok());
    EXPECT_NE(gone.error().message.find("GET /v1.41/containers/" + id + "/json: 404 "),
              std::string::npos)
        << gone.error().message;
    std::string running = create(spec("exec sleep 100"));
    ASSERT_TRUE(engine_->start(running).ok());
    EXPECT_TRUE(engine_->remove(running, true).ok());  // force removes a running one
}

TEST_F(Engine, WaitKeepsTheServiceIdle) {
    std::string id = create(spec("exec sleep 3"));
    ASSERT_TRUE(engine_->start(id).ok());
    auto before = cpu_time(service_->service_pid());
    auto started = std::chrono::steady_clock::now();
    auto code = engine_->wait(id);
    std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started;
    double cores = (cpu_time(service_->service_pid()) - before).count() / wall.count();
    ASSERT_TRUE(code.ok()) << code.error().message;
    EXPECT_EQ(*code, 0);
    std::printf("[ measure  ] %s service CPU during wait: %.3f cores over %.2f s\n",
                dialect_name(dialect_), cores, wall.count());
    // The fixture's dockerd also serves the docker tests running beside this one (ctest -j2), so
    // only a wait that spins (a whole core, as podman's Docker-compatible wait does) is caught
    // there; the private podman service serves this test alone.
    EXPECT_LT(cores, dialect_ == EngineDialect::podman ? 0.2 : 0.8);
}

TEST_F(Engine, DockerCompatibleWaitIsCostly) {
    // For the record (MACHINE.md): the Docker-compatible wait, which RestContainerEngine never
    // holds open on podman. Measured, not asserted.
    if (dialect_ != EngineDialect::podman) {
        return;  // dockerd's own wait is the one RestContainerEngine uses there
    }
    std::string id = create(spec("exec sleep 2"));
    ASSERT_TRUE(engine_->start(id).ok());
    auto client = HttpUnixClient::create({socket_});
    ASSERT_TRUE(client.ok());
    auto before = cpu_time(service_->service_pid());
    auto started = std::chrono::steady_clock::now();
    HttpRequest request{"POST", "/v1.41/containers/" + id + "/wait"};
    request.timeout = 0ms;
    auto answer = client->send_json(request);
    std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ((*answer)["StatusCode"], 0);
    std::printf(
        "[ measure  ] podman service CPU during Docker-compatible wait: %.3f cores over "
        "%.2f s\n",
        (cpu_time(service_->service_pid()) - before).count() / wall.count(), wall.count());
}

TEST_F(Engine, ZzNothingLeftWithTheLabel) {
    // Defined last, so it runs after the others (GoogleTest keeps definition order); every test
    // removed what it made, so after this one's own container goes nothing carries the label.
    std::string id = create(spec("true"));
    auto listed = engine_->list("arunner_test_run=" + label_value_);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].id, id);
    EXPECT_EQ((*listed)[0].labels.front().second, label_value_);
    ASSERT_TRUE(engine_->remove(id, true).ok());
    created_.clear();
    listed = engine_->list("arunner_test_run=" + label_value_);
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->empty()) << listed->size() << " containers left";
}

}  // namespace
}  // namespace arunner::engine
