// arunner::run_command() with real processes: both runner modes, the caller's input and output
// fds, stdout and stderr apart or merged, rc of a failing command, a timeout from the settings,
// a missing executable, a temporary private data dir, and an ansible-playbook run this way
// still giving the playbook's own events.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "arunner/commands.hpp"
#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

RunOptions command_options(const fs::path& pdd, std::vector<std::string> command, RunnerMode mode) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.command = std::move(command);
    options.runner_mode = mode;
    options.console_fd = -1;
    return options;
}

TEST(RunCommand, SubprocessModeReadsInputFdAndWritesOutputFd) {
    TempDir tmp;
    int in[2];
    ASSERT_EQ(::pipe(in), 0);
    ASSERT_EQ(::write(in[1], "line one\nline two\n", 18), 18);
    ::close(in[1]);
    int out = ::open((tmp / "out.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(out, 0);
    auto options = command_options(tmp / "pdd", {"cat"}, RunnerMode::subprocess);
    fs::create_directories(tmp / "pdd");
    options.input_fd = in[0];
    options.output_fd = out;
    auto result = run_command(options);
    ::close(in[0]);
    ::close(out);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->rc, 0);
    EXPECT_EQ(result->status, JobStatus::successful);
    EXPECT_EQ(read_text(tmp / "out.txt"), "line one\nline two\n");
    EXPECT_EQ(result->out, "");  // the output went to the fd, not to ART/stdout
}

TEST(RunCommand, SubprocessModeKeepsStdoutAndStderrApartAsEvents) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    auto options = command_options(
        tmp / "pdd", {"sh", "-c", "echo to-out; echo to-err >&2; exit 3"}, RunnerMode::subprocess);
    options.ident = "apart";
    std::vector<std::string> stdouts;
    RunCallbacks callbacks;
    callbacks.event_handler = [&](Json& event) {
        EXPECT_EQ(event["event"], "verbose");
        stdouts.push_back(event["stdout"].get<std::string>());
        return true;
    };
    auto result = run_command(options, callbacks);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->out, "to-out\n");
    EXPECT_EQ(result->err, "to-err\n");
    EXPECT_EQ(result->rc, 3);
    EXPECT_EQ(result->status, JobStatus::failed);
    std::sort(stdouts.begin(), stdouts.end());
    EXPECT_EQ(stdouts, (std::vector<std::string>{"to-err", "to-out"}));
    EXPECT_EQ(read_text(tmp / "pdd/artifacts/apart/rc"), "3");
    auto command = Json::parse(read_text(tmp / "pdd/artifacts/apart/command"));
    EXPECT_EQ(command["command"],
              (std::vector<std::string>{"sh", "-c", "echo to-out; echo to-err >&2; exit 3"}));
    EXPECT_EQ(command["cwd"], fs::current_path().string());
}

TEST(RunCommand, AGivenErrorFdTakesStderrOnly) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    int err = ::open((tmp / "err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(err, 0);
    auto options = command_options(tmp / "pdd", {"sh", "-c", "echo to-out; echo to-err >&2"},
                                   RunnerMode::subprocess);
    options.error_fd = err;
    auto result = run_command(options);
    ::close(err);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->out, "to-out\n");
    EXPECT_EQ(result->err, "");
    EXPECT_EQ(read_text(tmp / "err.txt"), "to-err\n");
}

TEST(RunCommand, PexpectModeMergesTheStreamsAndRefusesAnInputFd) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    auto options = command_options(tmp / "pdd", {"sh", "-c", "echo to-out; echo to-err >&2"},
                                   RunnerMode::pexpect);
    auto result = run_command(options);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_NE(result->out.find("to-out"), std::string::npos) << result->out;
    EXPECT_NE(result->out.find("to-err"), std::string::npos) << result->out;
    EXPECT_EQ(result->err, "");
    EXPECT_EQ(result->rc, 0);
    options.input_fd = 0;
    auto refused = run_command(options);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, "input_fd is applicable only with 'subprocess' runner mode");
}

TEST(RunCommand, FalseGivesRcOneInBothModes) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    for (RunnerMode mode : {RunnerMode::pexpect, RunnerMode::subprocess}) {
        auto result = run_command(command_options(tmp / "pdd", {"false"}, mode));
        ASSERT_TRUE(result.ok()) << result.error().message;
        EXPECT_EQ(result->rc, 1);
        EXPECT_EQ(result->status, JobStatus::failed);
    }
}

TEST(RunCommand, SubprocessTimeoutFromTheSettingsEndsTheCommand) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    auto options = command_options(tmp / "pdd", {"sleep", "60"}, RunnerMode::subprocess);
    options.settings = {{"subprocess_timeout", 1}};
    auto started = std::chrono::steady_clock::now();
    auto result = run_command(options);
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->status, JobStatus::timeout);
    EXPECT_EQ(result->rc, 254);
    EXPECT_LT(took, std::chrono::seconds(30));
    // job_timeout in pexpect mode, as for any run.
    auto pexpect = command_options(tmp / "pdd", {"sleep", "60"}, RunnerMode::pexpect);
    pexpect.settings = {{"job_timeout", 1}};
    auto timed = run_command(pexpect);
    ASSERT_TRUE(timed.ok()) << timed.error().message;
    EXPECT_EQ(timed->status, JobStatus::timeout);
    EXPECT_EQ(timed->rc, 254);
}

TEST(RunCommand, AMissingExecutableIsRc127) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    auto result =
        run_command(command_options(tmp / "pdd", {"no-such-command-arunner"}, RunnerMode::pexpect));
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->rc, 127);
    EXPECT_EQ(result->status, JobStatus::failed);
    EXPECT_NE(result->out.find("no-such-command-arunner"), std::string::npos) << result->out;
}

TEST(RunCommand, WithoutAPrivateDataDirATemporaryOneIsUsedAndRemoved) {
    TempDir cwd;
    RunOptions options;
    options.command = {"pwd"};
    options.runner_mode = RunnerMode::subprocess;
    options.host_cwd = cwd.path();
    options.console_fd = -1;
    fs::path art;
    RunCallbacks callbacks;
    callbacks.artifacts_handler = [&](const fs::path& dir) {
        art = dir;
        EXPECT_TRUE(fs::exists(dir / "rc"));
    };
    auto result = run_command(options, callbacks);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->out, fs::canonical(cwd.path()).string() + "\n");
    ASSERT_FALSE(art.empty());
    fs::path pdd = art.parent_path().parent_path();
    EXPECT_EQ(pdd.filename().string().rfind(".arunner-", 0), 0U) << pdd;
    EXPECT_FALSE(fs::exists(pdd));
}

TEST(RunCommand, APlaybookRunInPexpectModeHasItsPlaybookEvents) {
    TempDir tmp;
    fs::path pdd = copy_fixture("queries", tmp);
    auto options =
        command_options(pdd, {"ansible-playbook", "-i", "localhost,", "-c", "local", "site.yml"},
                        default_command_mode("ansible-playbook", false));
    EXPECT_EQ(options.runner_mode, RunnerMode::pexpect);
    options.host_cwd = pdd / "project";
    std::vector<std::string> names;
    RunCallbacks callbacks;
    callbacks.event_handler = [&](Json& event) {
        names.push_back(event["event"].get<std::string>());
        return true;
    };
    auto result = run_command(options, callbacks);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->rc, 0) << result->out;
    EXPECT_NE(result->out.find("hello from run_command"), std::string::npos) << result->out;
    auto has = [&](const char* name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    EXPECT_TRUE(has("playbook_on_start"));
    EXPECT_TRUE(has("runner_on_ok"));
    EXPECT_TRUE(has("playbook_on_stats"));
}

}  // namespace
}  // namespace arunner::testing
