// The bwrap sandbox and directory isolation (docs/sandbox.md), with real bubblewrap and real
// ansible-core: what a play can see, read and write under the same settings in arunner and in
// Debian's ansible-runner, paths inside the private data dir that ansible-runner fails to hide,
// the same through either worker, cancel and timeout leaving no process, and the project's copy.
//
// ansible-runner 2.3.1's bwrap line binds no /lib, so on Debian 12 ansible-playbook cannot start
// in it; its runs here go through `bwrap-lib`, a two-line wrapper that adds that one symlink.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

const std::string kAnsibleRunner = "/usr/bin/ansible-runner";

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

/// Each task's stdout, by task name, from the job's runner_on_ok events.
std::map<std::string, std::string> task_outputs(const fs::path& art) {
    std::map<std::string, std::string> out;
    for (const auto& e : load_job_events(art)) {
        if (e.value("event", "") == "runner_on_ok") {
            const Json& data = e["event_data"];
            out[data.value("task", "")] = data["res"].value("stdout", "");
        }
    }
    return out;
}

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.insert(entry.path().filename().string());
    }
    return names;
}

/// A copy of the sandbox fixture, the shown, read-only and unlisted dirs beside it, the paths
/// in env/extravars, a staging dir, and ansible-runner's wrapper.
struct SandboxSetup {
    TempDir tmp;
    fs::path pdd, shown, ro, unlisted, staging, bwrap_lib;
    SandboxSetup() {
        pdd = copy_fixture("sandbox", tmp);
        shown = tmp / "shown";
        ro = tmp / "ro";
        unlisted = tmp / "unlisted";
        staging = tmp / "staging";
        write(shown / "data", "shown-data");
        write(ro / "data", "ro-data");
        write(unlisted / "data", "unlisted-data");
        fs::create_directories(staging);
        write(pdd / "env/extravars", Json{{"shown", shown.string()},
                                          {"ro", ro.string()},
                                          {"unlisted", unlisted.string()},
                                          {"pdd", pdd.string()}}
                                         .dump());
        bwrap_lib = tmp / "bwrap-lib";
        write(bwrap_lib, "#!/bin/sh\nexec bwrap --symlink usr/lib /lib \"$@\"\n");
        fs::permissions(bwrap_lib, fs::perms(0755));
    }
    std::vector<std::string> flags(const std::string& executable) const {
        return {"--process-isolation",
                "--process-isolation-executable",
                executable,
                "--process-isolation-path",
                staging.string(),
                "--process-isolation-hide-paths",
                "/etc/debian_version",
                "/usr/share/common-licenses",
                "--process-isolation-show-paths",
                shown.string(),
                "--process-isolation-ro-paths",
                ro.string()};
    }
};

const std::map<std::string, std::string> kSandboxed = {
    {"hidden file", "0"},          {"hidden dir", "0"},
    {"read shown", "shown-data"},  {"write shown", "wrote"},
    {"read read-only", "ro-data"}, {"write read-only", "refused"},
    {"unlisted path", "absent"},   {"home", "absent"}};

TEST(SandboxRun, HidesShowsAndProtectsAsAnsibleRunnerDoes) {
    SandboxSetup s;
    const fs::path art = s.pdd / "artifacts/sb";
    std::vector<std::string> args = {"run", s.pdd.string(), "-p", "site.yml", "-i", "sb"};

    std::vector<std::string> ours = arunner(args);
    for (const auto& flag : s.flags("bwrap")) {
        ours.push_back(flag);
    }
    CommandResult a = run_command(ours);
    EXPECT_EQ(a.exit_code, 0) << a.out << a.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    EXPECT_EQ(task_outputs(art), kSandboxed) << read_text(art / "stdout");
    EXPECT_EQ(read_text(s.shown / "written"), "new\n");
    EXPECT_FALSE(fs::exists(s.ro / "written"));
    EXPECT_TRUE(fs::is_empty(s.staging)) << "the staging dir goes with the run";
    EXPECT_EQ(read_text("/etc/debian_version").empty(), false) << "the host's file is untouched";
    fs::remove(s.shown / "written");
    fs::rename(art, s.tmp / "arunner-art");

    std::vector<std::string> theirs = args;
    theirs.insert(theirs.begin(), kAnsibleRunner);
    for (const auto& flag : s.flags(s.bwrap_lib.string())) {
        theirs.push_back(flag);
    }
    CommandResult r = run_command(theirs);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    EXPECT_EQ(task_outputs(art), kSandboxed) << read_text(art / "stdout");
    EXPECT_EQ(read_text(s.shown / "written"), "new\n");
    EXPECT_FALSE(fs::exists(s.ro / "written"));
    fs::remove_all(art);

    // Without the sandbox the same play sees everything: the test can tell the difference.
    CommandResult plain = run_command(arunner(args));
    EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
    auto seen = task_outputs(art);
    EXPECT_NE(seen["hidden file"], "0");
    EXPECT_EQ(seen["unlisted path"], "visible");
    EXPECT_EQ(seen["write read-only"], "wrote");
}

TEST(SandboxRun, PathsInsideThePrivateDataDirStayHiddenAndReadOnly) {
    // ansible-runner binds the private data dir after the hidden and read-only paths, which
    // uncovers those inside it; arunner mounts parents first.
    SandboxSetup s;
    write(s.pdd / "secret/key", "s3cret");
    write(s.pdd / "secret.txt", "s3cret");
    fs::create_directories(s.pdd / "readonly");
    const fs::path art = s.pdd / "artifacts/in";
    CommandResult a = run_command(
        arunner({"run", s.pdd.string(), "-p", "inner.yml", "-i", "in", "--process-isolation",
                 "--process-isolation-executable", "bwrap", "--process-isolation-hide-paths",
                 (s.pdd / "secret").string(), (s.pdd / "secret.txt").string(),
                 "--process-isolation-ro-paths", (s.pdd / "readonly").string()}));
    EXPECT_EQ(a.exit_code, 0) << a.out << a.err;
    const std::map<std::string, std::string> expected = {
        {"hidden dir in the private data dir", "0"},
        {"hidden file in the private data dir", "0"},
        {"write read-only in the private data dir", "refused"},
        {"the project is the cwd", fs::canonical(s.pdd / "project").string()}};
    EXPECT_EQ(task_outputs(art), expected) << read_text(art / "stdout");
    EXPECT_EQ(read_text(s.pdd / "secret/key"), "s3cret");
    EXPECT_FALSE(fs::exists(s.pdd / "readonly/written"));
}

TEST(SandboxRun, SettingsTravelToEitherWorker) {
    for (const std::string& worker : {std::string(ARUNNER_BINARY), kAnsibleRunner}) {
        SandboxSetup s;
        const std::string executable =
            worker == kAnsibleRunner ? s.bwrap_lib.string() : std::string("bwrap");
        write(s.pdd / "env/settings",
              Json{{"process_isolation", true},
                   {"process_isolation_executable", executable},
                   {"process_isolation_hide_paths",
                    {"/etc/debian_version", "/usr/share/common-licenses"}},
                   // A list: ansible-runner would take a string's characters as paths ("/"
                   // among them); arunner takes a string as one path (unit.IsolationPaths).
                   {"process_isolation_show_paths", {s.shown.string()}},
                   {"process_isolation_ro_paths", {s.ro.string()}}}
                  .dump());
        const fs::path out = s.tmp / "processed";
        std::string pipeline = "'" + std::string(ARUNNER_BINARY) + "' transmit '" + s.pdd.string() +
                               "' -p site.yml -i t | '" + worker + "' worker | '" + ARUNNER_BINARY +
                               "' process '" + out.string() + "' -i t";
        CommandResult r = run_command({"/bin/sh", "-c", pipeline});
        EXPECT_EQ(r.exit_code, 0) << worker << ": " << r.err;
        EXPECT_EQ(read_text(out / "artifacts/t/status"), "successful") << worker;
        EXPECT_EQ(task_outputs(out / "artifacts/t"), kSandboxed)
            << worker << ": " << read_text(out / "artifacts/t/stdout");
    }
}

std::vector<std::string> detached_sleeper_run(const fs::path& pdd, const fs::path& staging,
                                              const std::string& ident) {
    return arunner({"run", pdd.string(), "-p", "site.yml", "-i", ident, "--process-isolation",
                    "--process-isolation-executable", "bwrap", "--process-isolation-path",
                    staging.string()});
}

TEST(SandboxRun, CancelKillsTheWholeSandbox) {
    TempDir tmp;
    fs::path pdd = copy_fixture("detached-sleeper", tmp);
    fs::create_directories(tmp / "staging");
    fs::path art = pdd / "artifacts/d";
    BackgroundCommand job(detached_sleeper_run(pdd, tmp / "staging", "d"));
    ASSERT_TRUE(wait_until([&] { return !detached_sleepers(art).empty(); }, 120s))
        << job.current_output();
    ASSERT_TRUE(wait_for_task_start(art, "sleep for a long time", 60s));
    ::kill(job.pid(), SIGTERM);
    CommandResult r = job.finish();
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "canceled");
    EXPECT_TRUE(detached_sleepers(art).empty());
    EXPECT_TRUE(processes_with_environment(art_env(art)).empty());
    EXPECT_TRUE(fs::is_empty(tmp / "staging"));
}

TEST(SandboxRun, JobTimeoutKillsTheWholeSandbox) {
    TempDir tmp;
    fs::path pdd = copy_fixture("detached-sleeper", tmp);
    fs::create_directories(tmp / "staging");
    write(pdd / "env/settings", "job_timeout: 8\n");
    fs::path art = pdd / "artifacts/t";
    CommandResult r = run_command(detached_sleeper_run(pdd, tmp / "staging", "t"));
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "timeout");
    EXPECT_NE(read_text(art / "stdout").find("start a detached sleeper"), std::string::npos)
        << "the sleeper was started before the timeout";
    EXPECT_TRUE(detached_sleepers(art).empty());
    EXPECT_TRUE(processes_with_environment(art_env(art)).empty());
    EXPECT_TRUE(fs::is_empty(tmp / "staging"));
}

TEST(SandboxRun, RefusalsNameTheSettingAndRunNothing) {
    TempDir tmp;
    fs::path pdd = copy_fixture("sandbox", tmp);
    CommandResult hide = run_command(
        arunner({"run", pdd.string(), "-p", "site.yml", "--process-isolation-hide-paths", "/etc"}));
    EXPECT_EQ(hide.exit_code, 1);
    EXPECT_NE(hide.err.find("process_isolation_hide_paths (--process-isolation-hide-paths) "
                            "applies to the bwrap sandbox only"),
              std::string::npos)
        << hide.err;
    CommandResult missing =
        run_command(arunner({"run", pdd.string(), "-p", "site.yml", "--process-isolation",
                             "--process-isolation-executable", "nosuch-bwrap"}));
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("Unable to find process isolation executable: nosuch-bwrap"),
              std::string::npos)
        << missing.err;
    EXPECT_FALSE(fs::exists(pdd / "artifacts"));
}

std::string only_copy_in(const fs::path& base) {
    for (const auto& name : names_in(base)) {
        if (name.rfind("runner_di_", 0) == 0) {
            return name;
        }
    }
    return {};
}

TEST(DirectoryIsolationRun, RunsFromACopyUnderTheBaseAndRemovesOnlyTheCopy) {
    for (bool sandboxed : {false, true}) {
        TempDir tmp;
        fs::path pdd = copy_fixture("dir-isolation", tmp);
        fs::path base = tmp / "base";
        write(base / "keep.txt", "mine");
        const std::set<std::string> project_before = names_in(pdd / "project");
        std::vector<std::string> args = {"run",
                                         pdd.string(),
                                         "-p",
                                         "site.yml",
                                         "-i",
                                         "di",
                                         "--directory-isolation-base-path",
                                         base.string()};
        if (sandboxed) {
            args.insert(args.end(),
                        {"--process-isolation", "--process-isolation-executable", "bwrap"});
        }
        CommandResult r = run_command(arunner(args));
        const fs::path art = pdd / "artifacts/di";
        EXPECT_EQ(r.exit_code, 0) << sandboxed << r.out << r.err;
        auto outputs = task_outputs(art);
        const fs::path where = outputs["where"];
        EXPECT_EQ(where.parent_path(), fs::canonical(base)) << sandboxed;
        EXPECT_EQ(where.filename().string().rfind("runner_di_", 0), 0u) << where;
        EXPECT_EQ(outputs["leave a file"], "made");
        EXPECT_EQ(names_in(base), std::set<std::string>{"keep.txt"}) << "only the copy goes";
        EXPECT_EQ(read_text(base / "keep.txt"), "mine");
        EXPECT_EQ(names_in(pdd / "project"), project_before) << "the project is untouched";

        // directory_isolation_cleanup: false keeps the copy, with what the job left in it.
        write(pdd / "env/settings", "directory_isolation_cleanup: false\n");
        r = run_command(arunner(args));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        const std::string copy = only_copy_in(base);
        ASSERT_FALSE(copy.empty()) << sandboxed;
        EXPECT_EQ(read_text(base / copy / "made-by-job"), "made\n");
        EXPECT_EQ(read_text(base / copy / "original.txt"), "keep me\n");
        EXPECT_EQ(names_in(pdd / "project"), project_before);
    }
}

TEST(DirectoryIsolationRun, AStartedDaemonRunsFromTheCopyInTheSandboxAndRemovesIt) {
    // `start` prepares the run, then forks the daemon that runs it: the copy and the staging
    // dir belong to the daemon, not to the process that returns.
    TempDir tmp;
    fs::path pdd = copy_fixture("dir-isolation", tmp);
    fs::path base = tmp / "base";
    write(base / "keep.txt", "mine");
    fs::create_directories(tmp / "staging");
    CommandResult started = run_command(arunner(
        {"start", pdd.string(), "-p", "site.yml", "-i", "dd", "--directory-isolation-base-path",
         base.string(), "--process-isolation", "--process-isolation-executable", "bwrap",
         "--process-isolation-path", (tmp / "staging").string()}));
    ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
    const fs::path art = pdd / "artifacts/dd";
    ASSERT_TRUE(wait_until(
        [&] {
            return fs::exists(art / "status") &&
                   run_command(arunner({"is-alive", pdd.string()})).exit_code != 0;
        },
        120s))
        << read_text(pdd / "daemon.log");
    EXPECT_EQ(read_text(art / "status"), "successful") << read_text(art / "stdout");
    auto outputs = task_outputs(art);
    EXPECT_EQ(fs::path(outputs["where"]).parent_path(), fs::canonical(base));
    EXPECT_EQ(outputs["leave a file"], "made");
    EXPECT_EQ(names_in(base), std::set<std::string>{"keep.txt"});
    EXPECT_TRUE(fs::is_empty(tmp / "staging"));
}

}  // namespace
}  // namespace arunner::testing
