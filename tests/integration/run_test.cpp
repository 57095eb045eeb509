// `arunner run` end to end with real ansible-core: status, rc, artifacts, timeouts, cancellation
// and the bad inputs, each checked the way a user would check them.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>

#include "support/command.hpp"
#include "support/fixture.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

TEST(Run, PassingPlayIsSuccessfulWithAnsibleRunnersArtifacts) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "ok1"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    fs::path art = pdd / "artifacts/ok1";
    EXPECT_EQ(read_text(art / "status"), "successful");
    EXPECT_EQ(read_text(art / "rc"), "0");
    std::string stdout_text = read_text(art / "stdout");
    EXPECT_NE(stdout_text.find("PLAY [hello play]"), std::string::npos);
    EXPECT_NE(stdout_text.find("hello from arunner"), std::string::npos);
    EXPECT_NE(stdout_text.find("ok=2"), std::string::npos);
    EXPECT_EQ(r.out, stdout_text);  // the console echo is the stdout artifact
    EXPECT_EQ(r.err, "");
    std::string command = read_text(art / "command");
    EXPECT_EQ(command.rfind("{\"command\": [\"ansible-playbook\", \"-i\", \"" +
                                (pdd / "inventory").string() + "\", \"site.yml\"], \"cwd\": \"" +
                                (pdd / "project").string() + "\", \"env\": {",
                            0),
              0u)
        << command;
    EXPECT_NE(command.find("\"ANSIBLE_STDOUT_CALLBACK\": \"awx_display\""), std::string::npos);
    EXPECT_EQ(mode_of(art), 0700u);
    EXPECT_EQ(mode_of(art / "job_events"), 0700u);
    for (const char* name : {"command", "stdout", "stderr", "status", "rc"}) {
        EXPECT_EQ(mode_of(art / name), 0600u) << name;
    }
}

TEST(Run, FailingPlayIsFailedWithAnsiblesRc) {
    TempDir tmp;
    fs::path pdd = copy_fixture("failing", tmp);
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "f1"}));
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(read_text(pdd / "artifacts/f1/status"), "failed");
    EXPECT_EQ(read_text(pdd / "artifacts/f1/rc"), "2");
    EXPECT_NE(read_text(pdd / "artifacts/f1/stdout").find("\"msg\": \"boom\""), std::string::npos);
}

TEST(Run, QuietKeepsTheConsoleEmptyButNotTheArtifact) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult r =
        run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "q", "-q"}));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(read_text(pdd / "artifacts/q/stdout").find("hello from arunner"), std::string::npos);
}

TEST(Run, FlagsReachTheCommandLine) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    fs::path artifacts = tmp / "elsewhere";
    CommandResult r =
        run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "flags", "--limit",
                             "localhost", "--forks", "3", "-vv", "--cmdline", "--diff",
                             "--artifact-dir", artifacts.string(), "--inventory", "hosts"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string command = read_text(artifacts / "flags/command");
    std::string expected = "{\"command\": [\"ansible-playbook\", \"--diff\", \"-i\", \"" +
                           (pdd / "inventory/hosts").string() +
                           "\", \"--limit\", \"localhost\", \"-vv\", \"--forks\", \"3\", "
                           "\"site.yml\"]";
    EXPECT_EQ(command.rfind(expected, 0), 0u) << command;
    EXPECT_FALSE(fs::exists(pdd / "artifacts/flags"));
    EXPECT_EQ(read_text(pdd / "env/cmdline"), "--diff");  // as ansible-runner's dump_artifacts
}

TEST(Run, JobTimeoutKillsEverythingWithRc254) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/settings") << "job_timeout: 4\n";
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "t"}));
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(pdd / "artifacts/t/status"), "timeout");
    EXPECT_EQ(read_text(pdd / "artifacts/t/rc"), "254");
    EXPECT_TRUE(processes_with_environment(art_env(pdd / "artifacts/t")).empty());
}

TEST(Run, IdleTimeoutKillsASilentJob) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    fs::create_directories(pdd / "env");
    // Long enough for ansible-playbook to start and print on a loaded machine: the idle clock runs
    // from the spawn.
    std::ofstream(pdd / "env/settings") << "{\"idle_timeout\": 10}";
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "idle"}));
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(pdd / "artifacts/idle/status"), "timeout");
    EXPECT_NE(read_text(pdd / "artifacts/idle/stdout").find("about to sleep"), std::string::npos);
    EXPECT_TRUE(processes_with_environment(art_env(pdd / "artifacts/idle")).empty());
}

void expect_signal_cancels(int signal) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sleeper", tmp);
    fs::path art = pdd / "artifacts/c";
    BackgroundCommand job(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "c"}));
    ASSERT_TRUE(wait_until(
        [&] { return read_text(art / "stdout").find("TASK [sleep") != std::string::npos; }, 60s));
    std::this_thread::sleep_for(500ms);  // let the sleep module start
    ASSERT_FALSE(processes_with_environment(art_env(art)).empty());
    ::kill(job.pid(), signal);
    CommandResult r = job.finish();
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "canceled");
    EXPECT_EQ(read_text(art / "rc"), "254");
    EXPECT_TRUE(processes_with_environment(art_env(art)).empty());
}

TEST(Run, SigtermCancelsAndLeavesNoProcess) {
    expect_signal_cancels(SIGTERM);
}

TEST(Run, SigintCancelsAndLeavesNoProcess) {
    expect_signal_cancels(SIGINT);
}

TEST(Run, SigtermCancelKillsADetachedSleeperBeforeArunnerExits) {
    // `nohup setsid sleep 300 &` leaves the job's process group and session, and its parent
    // shell exits: only a subreaper can still find it. arunner returns after it is gone.
    TempDir tmp;
    fs::path pdd = copy_fixture("detached-sleeper", tmp);
    fs::path art = pdd / "artifacts/d";
    BackgroundCommand job(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "d"}));
    ASSERT_TRUE(wait_until([&] { return !detached_sleepers(art).empty(); }, 120s))
        << job.current_output();
    ASSERT_TRUE(wait_until(
        [&] { return read_text(art / "stdout").find("TASK [sleep") != std::string::npos; }, 60s));
    for (int pid : detached_sleepers(art)) {
        // Out of the job's session, and no longer a child of the task's shell.
        std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
        EXPECT_EQ(stat.find(" " + std::to_string(job.pid()) + " "), stat.find(") S ") + 3)
            << "the sleeper should have been reparented to arunner: " << stat;
    }
    ::kill(job.pid(), SIGTERM);
    CommandResult r = job.finish();
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "canceled");
    EXPECT_TRUE(detached_sleepers(art).empty());
    EXPECT_TRUE(processes_with_environment(art_env(art)).empty());
}

TEST(Run, SighupCancelsLikeSigterm) {
    // arunner keeps SIGHUP ignored when it starts with it ignored (nohup): not here.
    auto previous = ::signal(SIGHUP, SIG_DFL);
    expect_signal_cancels(SIGHUP);
    ::signal(SIGHUP, previous);
}

TEST(Run, MissingExecutableIsRc127WithPexpectsMessage) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult r = run_command(
        arunner({"run", pdd.string(), "-p", "site.yml", "-i", "nf", "-b", "no-such-binary-x"}));
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(read_text(pdd / "artifacts/nf/stdout"),
              "The command was not found or was not executable: no-such-binary-x.\n");
    EXPECT_EQ(read_text(pdd / "artifacts/nf/status"), "failed");
    EXPECT_EQ(read_text(pdd / "artifacts/nf/rc"), "127");
}

TEST(RunBadInput, AMissingPrivateDataDirIsCreatedAsAnsibleRunnerDoes) {
    TempDir tmp;
    CommandResult r =
        run_command(arunner({"run", (tmp / "nope").string(), "-p", "site.yml", "-i", "x"}));
    EXPECT_EQ(r.exit_code, 1) << "the playbook is missing in the new dir";
    EXPECT_EQ(read_text(tmp / "nope/artifacts/x/status"), "failed");
    EXPECT_NE(read_text(tmp / "nope/artifacts/x/stdout").find("site.yml could not be found"),
              std::string::npos);
}

TEST(RunBadInput, PrivateDataDirIsAFile) {
    TempDir tmp;
    std::ofstream(tmp / "file") << "x";
    CommandResult r = run_command(arunner({"run", (tmp / "file").string(), "-p", "site.yml"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(
        r.err.find("cannot create directory " + (tmp / "file").string() + ": a file is in the way"),
        std::string::npos)
        << r.err;
}

TEST(RunBadInput, MalformedSettingsNamesTheFileAndLine) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/settings") << "job_timeout: 5\nidle_timeout: [3\n";
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("env/settings"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line "), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(pdd / "artifacts"));
}

TEST(RunBadInput, MalformedEnvvarsNamesTheFile) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/envvars") << "- just\n- a list\n";
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("env/envvars"), std::string::npos) << r.err;
}

TEST(RunBadInput, MissingPlaybookFailsLikeAnsibleRunner) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "nope.yml", "-i", "m"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(
        read_text(pdd / "artifacts/m/stdout").find("the playbook: nope.yml could not be found"),
        std::string::npos);
    EXPECT_EQ(read_text(pdd / "artifacts/m/status"), "failed");
}

TEST(RunBadInput, InvalidInventory) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult r = run_command(
        arunner({"run", pdd.string(), "-p", "site.yml", "--inventory", "no/such/inventory"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "Value for --inventory does not appear to be a valid path.\n");
    EXPECT_FALSE(fs::exists(pdd / "artifacts"));
}

TEST(RunBadInput, HostsWithPlaybook) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "--hosts", "x"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "The --hosts option can only be used with -m or -r\n");
}

TEST(RunBadInput, NoPlaybookModuleOrRole) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult r = run_command(arunner({"run", pdd.string()}), {{"RUNNER_PLAYBOOK", ""}});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "The -p option must be specified when not using -m or -r\n");
}

TEST(RunBadInput, UsageErrorsExitTwo) {
    CommandResult no_command = run_command(arunner({}));
    EXPECT_EQ(no_command.exit_code, 2);
    EXPECT_NE(no_command.out.find("These are common Ansible Runner commands:"), std::string::npos);
    EXPECT_NE(no_command.err.find("error: the following arguments are required: command"),
              std::string::npos);
    CommandResult no_dir = run_command(arunner({"run"}));
    EXPECT_EQ(no_dir.exit_code, 2);
    EXPECT_NE(no_dir.err.find("arunner run: error: the following arguments are required: "
                              "private_data_dir"),
              std::string::npos);
    CommandResult both = run_command(arunner({"run", "/tmp", "-p", "a.yml", "-m", "ping"}));
    EXPECT_EQ(both.exit_code, 2);
    CommandResult version = run_command(arunner({"--version"}));
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out, "0.1.0\n");
}

TEST(RunBadInput, ContainerFlagsTakeOneValueEachAndAMissingEngineIsNamed) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    const std::string socket = (tmp / "no-engine.sock").string();
    // As argparse's append: one value per flag, so the private data dir after it is not eaten.
    CommandResult run =
        run_command(arunner({"run", "--container-volume-mount", "/tmp:/x", pdd.string(), "-p",
                             "site.yml", "--process-isolation", "--container-option=--network=host",
                             "--container-engine-socket", socket}));
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_NE(run.err.find("the podman engine at " + socket + " cannot be used"), std::string::npos)
        << run.err;
    EXPECT_FALSE(fs::exists(pdd / "artifacts")) << "nothing is written before the engine answers";
    CommandResult extra = run_command(arunner(
        {"run", pdd.string(), "--container-volume-mount", "/tmp:/x", "/tmp:/y", "-p", "site.yml"}));
    EXPECT_EQ(extra.exit_code, 2);
    EXPECT_NE(extra.err.find("unrecognized arguments: /tmp:/y"), std::string::npos) << extra.err;
}

}  // namespace
}  // namespace arunner::testing
