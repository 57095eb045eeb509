// The worker's private data dirs: --delete semantics, the temp dir, the lock it holds while a job
// runs, and `worker cleanup`, which never touches a running job's dir.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <utime.h>

#include "support/command.hpp"
#include "support/fixture.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kA = ARUNNER_BINARY;

std::string quote(const std::string& s) {
    return "'" + s + "'";
}
CommandResult shell(const std::string& command) {
    return run_command({"/bin/sh", "-c", command});
}

fs::path make_job(const TempDir& tmp, const std::string& fixture) {
    fs::path pdd = copy_fixture(fixture, tmp);
    fs::path job = tmp / (fixture + ".job");
    EXPECT_EQ(shell(quote(kA) + " transmit " + quote(pdd.string()) + " -p site.yml -i w > " +
                    quote(job.string()))
                  .exit_code,
              0);
    return job;
}

void make_old(const fs::path& dir) {
    struct utimbuf old {};
    old.actime = old.modtime = std::time(nullptr) - 3 * 3600;
    ::utime(dir.c_str(), &old);
}

TEST(WorkerDirs, KeptDirGetsTheJobOverExistingFiles) {
    TempDir tmp;
    fs::path job = make_job(tmp, "hello");
    fs::path dir = tmp / "kept";
    fs::create_directories(dir);
    std::ofstream(dir / "unrelated") << "stays";
    CommandResult r = shell(quote(kA) + " worker --private-data-dir " + quote(dir.string()) +
                            " < " + quote(job.string()) + " > /dev/null");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(read_text(dir / "unrelated"), "stays");
    EXPECT_TRUE(fs::exists(dir / "project/site.yml"));
    EXPECT_EQ(read_text(dir / "artifacts/w/status"), "successful");
}

TEST(WorkerDirs, DeleteRemovesTheDirBeforeAndAfter) {
    TempDir tmp;
    fs::path job = make_job(tmp, "hello");
    fs::path dir = tmp / "doomed";
    fs::create_directories(dir);
    std::ofstream(dir / "unrelated") << "goes";
    CommandResult r = shell(quote(kA) + " worker --delete --private-data-dir " +
                            quote(dir.string()) + " < " + quote(job.string()) + " > /dev/null");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(fs::exists(dir));
}

TEST(WorkerDirs, NoDirMeansATempDirThatIsRemoved) {
    TempDir tmp;
    fs::path job = make_job(tmp, "hello");
    CommandResult r = run_command(
        {"/bin/sh", "-c", quote(kA) + " worker < " + quote(job.string()) + " > /dev/null"},
        {{"TMPDIR", tmp.path().string()}});
    EXPECT_EQ(r.exit_code, 0);
    for (const auto& entry : fs::directory_iterator(tmp.path())) {
        EXPECT_EQ(entry.path().filename().string().rfind("arunner-worker-", 0), std::string::npos)
            << entry.path();
    }
}

TEST(WorkerDirs, CleanupRemovesFinishedDirsAndNeverARunningOne) {
    TempDir tmp;
    // A running job: a worker in its own dir, sleeping in a task.
    fs::path job = make_job(tmp, "sleeper");
    fs::path running = tmp / "pdd_running";
    BackgroundCommand worker({"/bin/sh", "-c",
                              quote(kA) + " worker --private-data-dir " + quote(running.string()) +
                                  " < " + quote(job.string()) + " > /dev/null"});
    ASSERT_TRUE(wait_until([&] { return fs::exists(running / "artifacts/w/job_events"); }, 60s));
    make_old(running);
    // Two finished dirs, one of them within the grace period.
    fs::path old_done = tmp / "pdd_old";
    fs::path new_done = tmp / "pdd_new";
    fs::create_directories(old_done / "artifacts/abc");
    fs::create_directories(new_done / "project");
    make_old(old_done);

    std::string pattern = (tmp / "pdd_*").string();
    CommandResult r = run_command({kA, "worker", "cleanup", "--file-pattern", pattern});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Excluding running project " + running.string() + " from cleanup"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("Removed 1 private data dir(s) in pattern " + pattern), std::string::npos);
    EXPECT_NE(r.out.find("(changed: True)"), std::string::npos);
    EXPECT_TRUE(fs::exists(running / "project/site.yml"));
    EXPECT_FALSE(fs::exists(old_done));
    EXPECT_TRUE(fs::exists(new_done));

    CommandResult no_grace =
        run_command({kA, "worker", "cleanup", "--file-pattern", pattern, "--grace-period", "0",
                     "--exclude-strings", "nothing-matches"});
    EXPECT_EQ(no_grace.exit_code, 0);
    EXPECT_FALSE(fs::exists(new_done));
    EXPECT_TRUE(fs::exists(running / "project/site.yml"));
    ::kill(worker.pid(), SIGTERM);
    worker.finish();
}

TEST(WorkerDirs, CleanupRefusesSystemDirsAndStrangers) {
    TempDir tmp;
    CommandResult system = run_command({kA, "worker", "cleanup", "--file-pattern", "/u*"});
    EXPECT_EQ(system.exit_code, 1);
    EXPECT_NE(system.err.find("Provided pattern could result in deleting system folders:\n/usr\n"
                              "Refusing to continue for user system safety."),
              std::string::npos)
        << system.err;
    fs::create_directories(tmp / "notapdd");
    std::ofstream(tmp / "notapdd/precious") << "x";
    CommandResult stranger = run_command({kA, "worker", "cleanup", "--file-pattern",
                                          (tmp / "not*").string(), "--grace-period", "0"});
    EXPECT_EQ(stranger.exit_code, 1);
    EXPECT_NE(stranger.err.find("not a private data dir"), std::string::npos) << stranger.err;
    EXPECT_TRUE(fs::exists(tmp / "notapdd/precious"));
}

// Image removal through a real engine: tests/podman/image_cleanup_test.cpp.
TEST(WorkerDirs, CleanupImagesWithAnEngineThatIsNotThereSaysWhichSocket) {
    TempDir tmp;
    const std::string socket = (tmp / "no-engine.sock").string();
    CommandResult r = run_command({kA, "worker", "cleanup", "--remove-images", "localhost/img:v1"},
                                  {{"CONTAINER_HOST", "unix://" + socket}});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("arunner worker cleanup: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(socket), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("(changed:"), std::string::npos) << r.out;
}

TEST(WorkerDirs, CleanupWithNothingToDoIsUnchanged) {
    TempDir tmp;
    CommandResult r =
        run_command({kA, "worker", "cleanup", "--file-pattern", (tmp / "nothing-*").string()});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "(changed: False)\n");
}

}  // namespace
}  // namespace arunner::testing
