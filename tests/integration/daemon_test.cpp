// Daemon mode end to end with real ansible-core: `arunner start` detaches the job, `is-alive`
// and `stop` find it through PDD/pid, and a stopped job leaves no process behind, with status
// `canceled` and rc 254; a stale pid file never gets its pid signalled.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/long_job.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

/// Whether `pid` runs (a zombie has ended).
bool alive(int pid) {
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    return !stat.empty() && stat.find(") Z ") == std::string::npos;
}

/// Every live process of the job whose artifact dir is `art`: they all inherit its path.
std::vector<int> job_processes(const fs::path& art) {
    return processes_with_environment("AWX_ISOLATED_DATA_DIR=" + art.string());
}

/// The pid PDD/pid names (0 when none).
int daemon_pid(const fs::path& pdd) {
    return std::atoi(read_text(pdd / "pid").c_str());
}

fs::path long_job(const TempDir& tmp, const fs::path& marker) {
    return write_long_job(tmp / "pdd", marker);
}

/// Starts the long job as `ident` and waits until it runs.
void start_long_job(const fs::path& pdd, const fs::path& marker, const std::string& ident) {
    CommandResult started =
        run_command(arunner({"start", pdd.string(), "-p", "site.yml", "-i", ident}));
    ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
    EXPECT_EQ(started.out, "");
    EXPECT_EQ(started.err, "");
    ASSERT_TRUE(wait_until([&] { return fs::exists(marker); }, 120s))
        << read_text(pdd / "artifacts" / ident / "stdout") << read_text(pdd / "daemon.log");
}

TEST(Daemon, StartIsAliveStopIsAliveStop) {
    TempDir tmp;
    fs::path marker = tmp / "marker";
    fs::path pdd = long_job(tmp, marker);
    fs::path art = pdd / "artifacts/d1";
    start_long_job(pdd, marker, "d1");
    const int daemon = daemon_pid(pdd);
    ASSERT_GT(daemon, 0);
    EXPECT_EQ(read_text(pdd / "pid"), std::to_string(daemon) + "\n");
    EXPECT_TRUE(alive(daemon));
    EXPECT_EQ(mode_of(pdd / "daemon.log"), 0600u);
    EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(daemon) + "/cwd"), "/");
    ASSERT_GE(job_processes(art).size(), 2u);  // the detached sleeper and the marked sleep

    CommandResult is_alive = run_command(arunner({"is-alive", pdd.string()}));
    EXPECT_EQ(is_alive.exit_code, 0) << is_alive.err;
    CommandResult stop = run_command(arunner({"stop", pdd.string()}));
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_EQ(stop.err, "");
    // stop returns once the daemon has canceled the job and ended.
    EXPECT_FALSE(alive(daemon));
    EXPECT_EQ(job_processes(art), std::vector<int>{});
    EXPECT_EQ(read_text(art / "status"), "canceled");
    EXPECT_EQ(read_text(art / "rc"), "254");
    EXPECT_FALSE(fs::exists(pdd / "pid"));

    CommandResult alive_after = run_command(arunner({"is-alive", pdd.string()}));
    EXPECT_EQ(alive_after.exit_code, 1);
    CommandResult second_stop = run_command(arunner({"stop", pdd.string()}));
    EXPECT_EQ(second_stop.exit_code, 1);
    EXPECT_EQ(second_stop.err,
              "arunner stop: no daemon to stop: " + (pdd / "pid").string() + " does not exist\n");
}

TEST(Daemon, StopRightAfterStartCancelsTheJob) {
    // start returns once the daemon has its pid file: a stop at once finds it, and the SIGTERM
    // that reaches it before its job has started cancels the job all the same.
    TempDir tmp;
    fs::path marker = tmp / "marker";
    fs::path pdd = long_job(tmp, marker);
    fs::path art = pdd / "artifacts/quick";
    CommandResult start =
        run_command(arunner({"start", pdd.string(), "-p", "site.yml", "-i", "quick"}));
    ASSERT_EQ(start.exit_code, 0) << start.err;
    const int daemon = daemon_pid(pdd);
    CommandResult stop = run_command(arunner({"stop", pdd.string()}));
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_FALSE(alive(daemon));
    EXPECT_EQ(read_text(art / "status"), "canceled") << read_text(pdd / "daemon.log");
    EXPECT_EQ(read_text(art / "rc"), "254");
    EXPECT_EQ(job_processes(art), std::vector<int>{});
    EXPECT_FALSE(fs::exists(pdd / "pid"));
}

TEST(Daemon, SecondStartFailsAndLeavesTheFirstJobRunning) {
    TempDir tmp;
    fs::path marker = tmp / "marker";
    fs::path pdd = long_job(tmp, marker);
    fs::path art = pdd / "artifacts/first";
    start_long_job(pdd, marker, "first");
    const int daemon = daemon_pid(pdd);
    const size_t processes = job_processes(art).size();
    ASSERT_GE(processes, 2u);

    CommandResult again =
        run_command(arunner({"start", pdd.string(), "-p", "site.yml", "-i", "second"}));
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.err, "arunner start: a daemon (pid " + std::to_string(daemon) +
                             ") is already running a job in " + pdd.string() +
                             ": it holds the lock of " + (pdd / "pid").string() + "\n");
    EXPECT_FALSE(fs::exists(pdd / "artifacts/second"));
    EXPECT_EQ(daemon_pid(pdd), daemon);
    EXPECT_TRUE(alive(daemon));
    EXPECT_EQ(job_processes(art).size(), processes);
    EXPECT_EQ(run_command(arunner({"is-alive", pdd.string()})).exit_code, 0);

    EXPECT_EQ(run_command(arunner({"stop", pdd.string()})).exit_code, 0);
    EXPECT_EQ(job_processes(art), std::vector<int>{});
    EXPECT_EQ(read_text(art / "status"), "canceled");
}

TEST(Daemon, StopAndIsAliveWithoutAPidFileExit1AndMakeThePrivateDataDir) {
    TempDir tmp;
    fs::path pdd = tmp / "new";
    CommandResult stop = run_command(arunner({"stop", pdd.string()}));
    EXPECT_EQ(stop.exit_code, 1);
    EXPECT_EQ(stop.err,
              "arunner stop: no daemon to stop: " + (pdd / "pid").string() + " does not exist\n");
    // As ansible-runner: the dir (0700) and an empty daemon.log (0600).
    EXPECT_EQ(mode_of(pdd), 0700u);
    EXPECT_EQ(mode_of(pdd / "daemon.log"), 0600u);
    EXPECT_EQ(read_text(pdd / "daemon.log"), "");
    CommandResult is_alive = run_command(arunner({"is-alive", pdd.string()}));
    EXPECT_EQ(is_alive.exit_code, 1);
    EXPECT_EQ(is_alive.out + is_alive.err, "");
    // Neither takes run's pre-run checks.
    EXPECT_EQ(run_command(arunner({"is-alive", pdd.string(), "--hosts", "x"})).exit_code, 1);
    EXPECT_EQ(run_command(arunner({"is-alive"})).exit_code, 2);
}

TEST(Daemon, AStalePidFileIsNeverSignalledAndIsReplacedByStart) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    // A live process that is no daemon: its pid in an unlocked pid file.
    BackgroundCommand unrelated({"sleep", "300"});
    ASSERT_GT(unrelated.pid(), 0);
    std::ofstream(pdd / "pid") << unrelated.pid() << "\n";

    EXPECT_EQ(run_command(arunner({"is-alive", pdd.string()})).exit_code, 1);
    CommandResult stop = run_command(arunner({"stop", pdd.string()}));
    EXPECT_EQ(stop.exit_code, 1);
    EXPECT_NE(stop.err.find("is stale (pid " + std::to_string(unrelated.pid()) + " left alone"),
              std::string::npos)
        << stop.err;
    EXPECT_TRUE(alive(unrelated.pid()));
    EXPECT_TRUE(fs::exists(pdd / "pid"));  // not ours to remove: another runner may own it

    CommandResult start =
        run_command(arunner({"start", pdd.string(), "-p", "site.yml", "-i", "s"}));
    ASSERT_EQ(start.exit_code, 0) << start.err;
    const int daemon = daemon_pid(pdd);
    EXPECT_NE(daemon, unrelated.pid());
    ASSERT_TRUE(wait_until([&] { return !fs::exists(pdd / "pid"); }, 120s));
    EXPECT_EQ(read_text(pdd / "artifacts/s/status"), "successful");
    EXPECT_TRUE(alive(unrelated.pid()));
}

TEST(Daemon, AJobThatEndsByItselfEndsTheDaemonAndRemovesThePidFile) {
    TempDir tmp;
    copy_fixture("hello", tmp);
    // A relative private data dir: the daemon works from `/`, so it is made absolute first.
    CommandResult start =
        run_command(arunner({"start", "hello", "-p", "site.yml", "-i", "done"}), {}, tmp.path());
    ASSERT_EQ(start.exit_code, 0) << start.err;
    fs::path pdd = tmp / "hello";
    const int daemon = daemon_pid(pdd);
    ASSERT_GT(daemon, 0);
    ASSERT_TRUE(wait_until([&] { return !fs::exists(pdd / "pid"); }, 120s));
    EXPECT_TRUE(wait_until([&] { return !alive(daemon); }, 60s));
    fs::path art = pdd / "artifacts/done";
    EXPECT_EQ(read_text(art / "status"), "successful");
    EXPECT_EQ(read_text(art / "rc"), "0");
    EXPECT_NE(read_text(art / "stdout").find("hello from arunner"), std::string::npos);
    EXPECT_EQ(read_text(pdd / "daemon.log"), "");
    EXPECT_EQ(run_command(arunner({"is-alive", pdd.string()})).exit_code, 1);
    EXPECT_EQ(run_command(arunner({"stop", pdd.string()})).exit_code, 1);
}

TEST(Daemon, ErrorsAreReportedBeforeDetachingWithRunsExitCodes) {
    TempDir tmp;
    fs::path pdd = copy_fixture("hello", tmp);
    CommandResult no_playbook = run_command(arunner({"start", pdd.string()}));
    EXPECT_EQ(no_playbook.exit_code, 1);
    EXPECT_EQ(no_playbook.err, "The -p option must be specified when not using -m or -r\n");
    CommandResult usage = run_command(arunner({"start", pdd.string(), "-p", "x", "--bogus"}));
    EXPECT_EQ(usage.exit_code, 2);
    CommandResult bad_ident =
        run_command(arunner({"start", pdd.string(), "-p", "site.yml", "-i", "a/b"}));
    EXPECT_EQ(bad_ident.exit_code, 1);
    EXPECT_EQ(bad_ident.err, "arunner: ident 'a/b' cannot name an artifact directory\n");
    EXPECT_FALSE(fs::exists(pdd / "pid"));
    EXPECT_FALSE(fs::exists(pdd / "artifacts"));
    std::ofstream(tmp / "file") << "not a dir";
    EXPECT_EQ(run_command(arunner({"start", (tmp / "file").string(), "-p", "x"})).exit_code, 1);
}

TEST(Daemon, StopKillsADaemonThatDoesNotEndAndEveryProcessOfItsJob) {
    // A daemon frozen by SIGSTOP never acts on stop's SIGTERM: after its grace period stop kills
    // it and every process of its job itself.
    TempDir tmp;
    fs::path marker = tmp / "marker";
    fs::path pdd = long_job(tmp, marker);
    fs::path art = pdd / "artifacts/frozen";
    start_long_job(pdd, marker, "frozen");
    const int daemon = daemon_pid(pdd);
    ASSERT_GE(job_processes(art).size(), 2u);
    ASSERT_EQ(::kill(daemon, SIGSTOP), 0);
    CommandResult stop = run_command(arunner({"stop", pdd.string()}));
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_NE(stop.err.find("did not end"), std::string::npos) << stop.err;
    EXPECT_FALSE(alive(daemon));
    EXPECT_EQ(job_processes(art), std::vector<int>{});
    EXPECT_FALSE(fs::exists(pdd / "pid"));
    EXPECT_EQ(run_command(arunner({"is-alive", pdd.string()})).exit_code, 1);
}

}  // namespace
}  // namespace arunner::testing
