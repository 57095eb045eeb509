// The embedded podman service (issue 13, item 1): with no engine socket configured or answering,
// arunner starts `podman system service` on a private socket, shares it between the jobs of one
// process, and leaves no service process or directory behind. Podman only (the docker run of the
// container tests does not build this file).

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "arunner/runner.hpp"
#include "engine/container_engine.hpp"
#include "isolation/embedded_podman.hpp"
#include "support/command.hpp"
#include "support/file_helpers.hpp"
#include "support/fixture.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// The command lines of every process whose command line mentions `text`.
std::vector<std::string> processes_mentioning(const std::string& text) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (cmdline.find(text) != std::string::npos) {
            found.push_back(name + ": " + cmdline);
        }
    }
    return found;
}

/// Directories the embedded service made under `tmp`.
std::vector<std::string> service_dirs(const fs::path& tmp) {
    std::vector<std::string> dirs;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(tmp, ec)) {
        if (entry.path().filename().string().rfind("arunner-podman-", 0) == 0) {
            dirs.push_back(entry.path().string());
        }
    }
    return dirs;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
        ++n;
    }
    return n;
}

class EmbeddedService : public ::testing::Test {
  protected:
    void SetUp() override {
        // The test is only meaningful where no engine answers at a default socket.
        for (const char* socket : {"/run/podman/podman.sock", "/var/run/docker.sock"}) {
            ASSERT_FALSE(engine::socket_answers(socket))
                << "an engine answers at " << socket
                << "; these tests need a machine where none does (stop that service)";
        }
        fs::create_directories(tmp_);
        PodmanService check;  // the image is there and podman works
        ASSERT_TRUE(check.ok()) << check.error();
        auto image = check.engine().image_exists(kEeImage);
        ASSERT_TRUE(image.ok() && *image) << kEeImage << " is missing: run scripts/build-ee";
    }

    /// No socket configured: CONTAINER_HOST and DOCKER_HOST empty; temp files under tmp_.
    std::vector<std::pair<std::string, std::string>> no_engine_env() const {
        return {{"CONTAINER_HOST", ""}, {"DOCKER_HOST", ""}, {"TMPDIR", tmp_.string()}};
    }

    void expect_nothing_left() {
        EXPECT_TRUE(processes_mentioning(tmp_.string()).empty())
            << ::testing::PrintToString(processes_mentioning(tmp_.string()));
        EXPECT_TRUE(service_dirs(tmp_).empty()) << ::testing::PrintToString(service_dirs(tmp_));
    }

    TempDir dir_;
    fs::path tmp_ = dir_ / "tmp";
};

TEST_F(EmbeddedService, RunWithNoSocketStartsItsOwnServiceAndStopsIt) {
    for (const std::string mode : {"--process-isolation", "--container-worker"}) {
        SCOPED_TRACE(mode);
        auto pdd = copy_fixture("demo", dir_);
        const std::string ident =
            "embedded" + std::string(mode == "--container-worker" ? "w" : "p");
        CommandResult r = run_command({ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml",
                                       "--ident", ident, mode, "--container-image", kEeImage},
                                      no_engine_env());
        EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
        EXPECT_EQ(slurp(pdd / "artifacts" / ident / "status"), "successful");
        // One line on stderr says what arunner did, naming the socket.
        const std::string line =
            "arunner: no container engine socket is configured or "
            "answering; started `podman system service` on " +
            (tmp_ / "arunner-podman-").string();
        EXPECT_EQ(count(r.err, line), 1U) << r.err;
        EXPECT_EQ(count(r.err, "\n"), 1U) << r.err;
        expect_nothing_left();
        fs::remove_all(pdd);
    }
}

TEST_F(EmbeddedService, TwoConcurrentJobsShareOneService) {
    ::setenv("TMPDIR", tmp_.c_str(), 1);
    ::unsetenv("CONTAINER_HOST");
    ::unsetenv("DOCKER_HOST");
    std::mutex mutex;
    std::vector<std::string> notices;
    isolation::set_engine_notice([&](const std::string& line) {
        std::lock_guard lock(mutex);
        notices.push_back(line);
    });
    TempDir one_dir;
    TempDir two_dir;
    auto options = [](const fs::path& pdd, const std::string& ident) {
        RunOptions o;
        o.private_data_dir = pdd;
        o.ident = ident;
        o.playbook = "site.yml";
        o.process_isolation = true;
        o.container_image = kEeImage;
        return o;
    };
    // The first job sleeps until the second is over, so the two overlap for certain.
    std::atomic<bool> second_done{false};
    RunCallbacks first_callbacks;
    first_callbacks.cancel_callback = [&] { return second_done.load(); };
    auto first = run_async(options(copy_fixture("sleeper", one_dir), "shared1"), first_callbacks);
    ASSERT_TRUE(first.ok()) << first.error().message;
    // The second starts once the first job's container runs.
    ASSERT_TRUE(wait_until(
        [&] { return fs::exists(one_dir / "sleeper" / "artifacts" / "shared1" / "container_id"); },
        120s));
    auto second = run_async(options(copy_fixture("demo", two_dir), "shared2"));
    ASSERT_TRUE(second.ok()) << second.error().message;
    (*second)->wait();
    second_done = true;
    (*first)->wait();
    EXPECT_EQ((*second)->status(), JobStatus::successful);
    EXPECT_EQ((*first)->status(), JobStatus::canceled);
    {
        std::lock_guard lock(mutex);
        EXPECT_EQ(notices.size(), 1U) << ::testing::PrintToString(notices);
    }
    isolation::set_engine_notice({});
    expect_nothing_left();
}

TEST_F(EmbeddedService, AnEngineThatAnswersBadlyIsNamedNotReplaced) {
    // A socket that accepts and answers garbage: the job fails naming it and what it said; no
    // service is started in its place.
    auto pdd = copy_fixture("demo", dir_);
    const fs::path socket = dir_ / "bad.sock";
    BackgroundCommand bad({"/usr/bin/python3", "-c",
                           "import socket,sys\n"
                           "s=socket.socket(socket.AF_UNIX)\n"
                           "s.bind(sys.argv[1]); s.listen(8)\n"
                           "while True:\n"
                           "    c,_=s.accept()\n"
                           "    try:\n"
                           "        c.recv(65536)\n"
                           "        c.sendall(b'HTTP/1.1 500 Internal Server Error\\r\\n"
                           "Content-Length: 22\\r\\n\\r\\n{\"message\":\"on fire\"}\\n')\n"
                           "    except OSError: pass\n"
                           "    c.close()\n",
                           socket.string()});
    ASSERT_TRUE(wait_until([&] { return engine::socket_answers(socket); }, 30s));
    auto env = no_engine_env();
    env[0].second = "unix://" + socket.string();
    CommandResult r =
        run_command({ARUNNER_BINARY, "run", pdd.string(), "-p", "site.yml", "--ident", "badengine",
                     "--process-isolation", "--container-image", kEeImage},
                    env);
    ::kill(bad.pid(), SIGKILL);
    bad.finish();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(socket.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("on fire"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("started `podman system service`"), std::string::npos) << r.err;
    expect_nothing_left();
}

}  // namespace
}  // namespace arunner::testing
