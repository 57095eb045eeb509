// src/isolation/embedded_podman.cpp with stand-in `podman` programs: a service that answers, one
// that fails at once, one that never answers is not tested (30 s). The real service:
// tests/podman/embedded_service_test.cpp.

#include "isolation/embedded_podman.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/container_engine.hpp"
#include "support/temp_dir.hpp"

namespace arunner::isolation {
namespace {

namespace fs = std::filesystem;
using arunner::testing::TempDir;

class EmbeddedPodmanTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(tmp_);
        const char* old = std::getenv("TMPDIR");
        old_tmpdir_ = old ? old : "";
        ::setenv("TMPDIR", tmp_.c_str(), 1);
    }
    void TearDown() override {
        if (old_tmpdir_.empty()) {
            ::unsetenv("TMPDIR");
        } else {
            ::setenv("TMPDIR", old_tmpdir_.c_str(), 1);
        }
    }
    fs::path script(const std::string& name, const std::string& body) {
        fs::path path = dir_ / name;
        std::ofstream(path) << body;
        ::chmod(path.c_str(), 0755);
        return path;
    }
    bool tmp_is_empty() const { return fs::is_empty(tmp_); }

    TempDir dir_;
    fs::path tmp_ = dir_ / "tmp";
    std::string old_tmpdir_;
};

TEST_F(EmbeddedPodmanTest, StartsSharesAndStopsAServiceThatAnswers) {
    // argv: system service --time=0 unix://SOCKET; records its environment's CONTAINER_HOST.
    fs::path podman = script("podman",
                             "#!/usr/bin/python3\n"
                             "import os, socket, sys\n"
                             "assert sys.argv[1:4] == ['system', 'service', '--time=0'], sys.argv\n"
                             "open(sys.argv[4][7:] + '.env', 'w').write("
                             "os.environ.get('CONTAINER_HOST', '<unset>'))\n"
                             "s = socket.socket(socket.AF_UNIX)\n"
                             "s.bind(sys.argv[4][7:]); s.listen(8)\n"
                             "while True: s.accept()[0].close()\n");
    ::setenv("CONTAINER_HOST", "unix:///somewhere/else.sock", 1);
    auto first = EmbeddedPodman::acquire(podman);
    ::unsetenv("CONTAINER_HOST");
    ASSERT_TRUE(first.ok()) << first.error().message;
    const fs::path socket = (*first)->socket();
    EXPECT_EQ(socket.parent_path().parent_path(), tmp_);
    EXPECT_EQ(socket.filename(), "podman.sock");
    EXPECT_TRUE(engine::socket_answers(socket));
    struct stat st {};
    ASSERT_EQ(::stat(socket.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700U);
    std::ifstream env(socket.string() + ".env");
    std::string seen((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    EXPECT_EQ(seen, "<unset>");  // never a remote client of another engine

    auto second = EmbeddedPodman::acquire(podman);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->get(), first->get());  // one service for the process
    const pid_t pid = (*first)->pid();
    ASSERT_GT(pid, 0);
    first->reset();
    EXPECT_EQ(::kill(pid, 0), 0);  // still held by the second
    EXPECT_TRUE(engine::socket_answers(socket));
    second->reset();
    EXPECT_NE(::kill(pid, 0), 0);  // stopped and reaped
    EXPECT_FALSE(engine::socket_answers(socket));
    EXPECT_TRUE(tmp_is_empty());
}

TEST_F(EmbeddedPodmanTest, AServiceThatFailsAtOnceIsAnErrorQuotingIt) {
    fs::path podman = script("podman",
                             "#!/bin/sh\n"
                             "echo 'Error: cannot open the storage: database is locked' >&2\n"
                             "exit 125\n");
    auto service = EmbeddedPodman::acquire(podman);
    ASSERT_FALSE(service.ok());
    const std::string& message = service.error().message;
    EXPECT_NE(message.find("podman system service exited with status 125 before it answered on " +
                           tmp_.string()),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("it printed: Error: cannot open the storage: database is locked"),
              std::string::npos)
        << message;
    EXPECT_TRUE(tmp_is_empty());
}

TEST_F(EmbeddedPodmanTest, AFloodOfServiceOutputIsQuotedOnlyByItsEnd) {
    fs::path podman = script("podman",
                             "#!/bin/sh\n"
                             "head -c 8000000 /dev/zero | tr '\\0' x >&2\n"
                             "echo >&2\n"
                             "echo 'Error: the last word' >&2\n"
                             "exit 125\n");
    auto service = EmbeddedPodman::acquire(podman);
    ASSERT_FALSE(service.ok());
    const std::string& message = service.error().message;
    EXPECT_LT(message.size(), 4096U);
    EXPECT_NE(message.find("Error: the last word"), std::string::npos);
    EXPECT_TRUE(tmp_is_empty());
}

TEST_F(EmbeddedPodmanTest, AProgramThatCannotRunIsAnError) {
    fs::path podman = dir_ / "not-executable";
    std::ofstream(podman) << "text\n";
    auto service = EmbeddedPodman::acquire(podman);
    ASSERT_FALSE(service.ok());
    EXPECT_EQ(service.error().message, "cannot run " + podman.string() + ": Permission denied");
    EXPECT_TRUE(tmp_is_empty());
}

TEST_F(EmbeddedPodmanTest, ATooLongSocketPathIsAnErrorNamingTMPDIR) {
    fs::path deep = tmp_ / std::string(120, 'd');
    fs::create_directories(deep);
    ::setenv("TMPDIR", deep.c_str(), 1);
    auto service = EmbeddedPodman::acquire("/bin/true");
    ASSERT_FALSE(service.ok());
    EXPECT_NE(service.error().message.find("set TMPDIR to a shorter directory"), std::string::npos)
        << service.error().message;
    EXPECT_TRUE(fs::is_empty(deep));
}

}  // namespace
}  // namespace arunner::isolation
