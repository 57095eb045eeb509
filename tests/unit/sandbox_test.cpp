#include "config/sandbox.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;
using Words = std::vector<std::string>;
using Json = nlohmann::ordered_json;
using Kind = SandboxMount::Kind;

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    ::lstat(path.c_str(), &st);
    return st.st_mode & 07777;
}

/// Removes what a prepared job made for itself (the staging dir, the project's copy).
struct Made {
    std::vector<fs::path> paths;
    ~Made() {
        for (const auto& p : paths) {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    }
};

TEST(SandboxCommand, AnsibleRunnersLineWithTheHostsLibEntriesAndTheMountsInOrder) {
    SandboxPlan plan;
    plan.executable = "bwrap";
    plan.mounts = {{Kind::show, "/pdd", "/pdd"},
                   {Kind::hide, "/pdd/secret", "/tmp/ansible_runner_pi_x/abc"},
                   {Kind::read_only, "/srv/ro", "/srv/ro"}};
    plan.chdir = "/pdd/project";
    HostRoot root;
    root.entries = {{"/lib", "usr/lib"}, {"/lib64", "usr/lib64"}, {"/lib32", ""}};
    root.has_opt = true;
    EXPECT_EQ(sandbox_command(plan, root, {"ansible-playbook", "site.yml"}),
              (Words{"bwrap",
                     "--die-with-parent",
                     "--unshare-pid",
                     "--dev-bind",
                     "/dev",
                     "dev",
                     "--proc",
                     "/proc",
                     "--dir",
                     "/tmp",
                     "--ro-bind",
                     "/bin",
                     "/bin",
                     "--ro-bind",
                     "/etc",
                     "/etc",
                     "--ro-bind",
                     "/usr",
                     "/usr",
                     "--ro-bind",
                     "/opt",
                     "/opt",
                     "--symlink",
                     "usr/lib",
                     "/lib",
                     "--symlink",
                     "usr/lib64",
                     "/lib64",
                     "--ro-bind",
                     "/lib32",
                     "/lib32",
                     "--bind",
                     "/pdd",
                     "/pdd",
                     "--ro-bind",
                     "/tmp/ansible_runner_pi_x/abc",
                     "/pdd/secret",
                     "--ro-bind",
                     "/srv/ro",
                     "/srv/ro",
                     "--chdir",
                     "/pdd/project",
                     "ansible-playbook",
                     "site.yml"}));
    root.has_opt = false;
    plan.chdir.clear();
    Words without = sandbox_command(plan, root, {"x"});
    EXPECT_EQ(std::count(without.begin(), without.end(), "/opt"), 0);
    EXPECT_EQ(std::count(without.begin(), without.end(), "--chdir"), 0);
}

TEST(SandboxCommand, ThisHostsRootIsMirrored) {
    HostRoot root = read_host_root();
    for (const auto& entry : root.entries) {
        std::error_code ec;
        if (entry.link_target.empty()) {
            EXPECT_TRUE(fs::is_directory(entry.path)) << entry.path;
        } else {
            EXPECT_EQ(fs::read_symlink(entry.path, ec).string(), entry.link_target);
        }
    }
    std::error_code ec;
    EXPECT_EQ(root.has_opt, fs::is_directory("/opt", ec));
}

TEST(PlanSandbox, HiddenPathsAreCoveredByEmptyItemsAndParentsAreMountedFirst) {
    testing::TempDir dir;
    write(dir / "pdd/secret/key", "s3cret");
    write(dir / "pdd/secret.txt", "s3cret");
    write(dir / "ro/data", "ro");
    write(dir / "shown/data", "rw");
    fs::create_symlink(dir / "ro", dir / "ro-link");
    fs::create_directories(dir / "staging");
    IsolationPaths paths;
    paths.staging_base = dir / "staging";
    paths.hide = {(dir / "pdd/secret").string(), (dir / "pdd/secret.txt").string(),
                  (dir / "missing").string(), (dir / "pdd/secret").string()};
    paths.ro = {(dir / "ro-link").string()};
    paths.show = {(dir / "shown").string(), (dir / "nowhere").string()};
    const fs::path pdd = fs::canonical(dir / "pdd");
    auto plan = plan_sandbox(paths, "bwrap", {{Kind::show, pdd, pdd}}, pdd);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    Made made{{plan->staging_dir}};

    EXPECT_EQ(plan->staging_dir.parent_path(), dir / "staging");
    EXPECT_EQ(plan->staging_dir.filename().string().rfind("ansible_runner_pi_", 0), 0u);
    EXPECT_EQ(mode_of(plan->staging_dir), 0700u);
    const fs::path real = fs::canonical(dir.path());
    ASSERT_EQ(plan->mounts.size(), 5u);
    EXPECT_EQ(plan->mounts[0].path, pdd);
    EXPECT_EQ(plan->mounts[0].kind, Kind::show);
    EXPECT_EQ(plan->mounts[1].path, pdd / "secret");
    EXPECT_EQ(plan->mounts[1].kind, Kind::hide);
    EXPECT_EQ(plan->mounts[1].source.parent_path(), plan->staging_dir);
    EXPECT_TRUE(fs::is_directory(plan->mounts[1].source));
    EXPECT_TRUE(fs::is_empty(plan->mounts[1].source));
    EXPECT_EQ(mode_of(plan->mounts[1].source), 0700u);
    EXPECT_EQ(plan->mounts[2].path, pdd / "secret.txt");
    EXPECT_TRUE(fs::is_regular_file(plan->mounts[2].source));
    EXPECT_EQ(fs::file_size(plan->mounts[2].source), 0u);
    EXPECT_EQ(mode_of(plan->mounts[2].source), 0600u);
    EXPECT_EQ(plan->mounts[3].path, real / "ro");  // the link's real path
    EXPECT_EQ(plan->mounts[3].kind, Kind::read_only);
    EXPECT_EQ(plan->mounts[4].path, real / "shown");
    EXPECT_EQ(plan->mounts[4].kind, Kind::show);
}

TEST(PlanSandbox, ForOnePathTheMostRestrictiveMountComesLast) {
    testing::TempDir dir;
    fs::create_directories(dir / "both");
    IsolationPaths paths;
    paths.staging_base = dir.path();
    paths.show = {(dir / "both").string()};
    paths.ro = {(dir / "both").string()};
    paths.hide = {(dir / "both").string()};
    auto plan = plan_sandbox(paths, "bwrap", {}, "");
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    Made made{{plan->staging_dir}};
    ASSERT_EQ(plan->mounts.size(), 3u);
    EXPECT_EQ(plan->mounts[0].kind, Kind::show);
    EXPECT_EQ(plan->mounts[1].kind, Kind::read_only);
    EXPECT_EQ(plan->mounts[2].kind, Kind::hide);
}

TEST(PlanSandbox, AStagingBaseThatDoesNotExistIsAnErrorNamingTheSetting) {
    testing::TempDir dir;
    IsolationPaths paths;
    paths.staging_base = dir / "nope";
    auto plan = plan_sandbox(paths, "bwrap", {}, "");
    ASSERT_FALSE(plan.ok());
    EXPECT_NE(plan.error().message.find("process_isolation_path"), std::string::npos)
        << plan.error().message;
    EXPECT_NE(plan.error().message.find((dir / "nope").string()), std::string::npos);
}

TEST(IsolationPaths, SettingsWinAndTakeOnePathOrAList) {
    RunOptions options;
    options.process_isolation_hide_paths = {"/a"};
    options.process_isolation_show_paths = {"/s"};
    Json settings = {{"process_isolation_hide_paths", "/h"},
                     {"process_isolation_ro_paths", {"/r1", "/r2"}},
                     {"process_isolation_path", "/stage"},
                     {"directory_isolation_base_path", "/base"},
                     {"directory_isolation_cleanup", false}};
    auto paths = read_isolation_paths(options, settings);
    ASSERT_TRUE(paths.ok()) << paths.error().message;
    EXPECT_EQ(paths->hide, Words{"/h"});
    EXPECT_EQ(paths->show, Words{"/s"});
    EXPECT_EQ(paths->ro, (Words{"/r1", "/r2"}));
    EXPECT_EQ(paths->staging_base, fs::path("/stage"));
    EXPECT_EQ(paths->directory_base, fs::path("/base"));
    EXPECT_FALSE(paths->directory_cleanup);

    auto bad = read_isolation_paths(options, Json{{"process_isolation_show_paths", {1}}});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message,
              "env/settings: process_isolation_show_paths must be a path or a list of paths");
    bad = read_isolation_paths(options, Json{{"directory_isolation_base_path", 3}});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "env/settings: directory_isolation_base_path must be a path");
    EXPECT_TRUE(read_isolation_paths(options, Json::object())->directory_cleanup);
}

TEST(IsolationPaths, EachSettingIsRefusedByNameWhereItCannotApply) {
    IsolationPaths hide;
    hide.hide = {"/etc/shadow"};
    EXPECT_TRUE(check_isolation_paths(hide, IsolationKind::sandbox, "").ok());
    auto none = check_isolation_paths(hide, IsolationKind::none, "");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().message,
              "process_isolation_hide_paths (--process-isolation-hide-paths) applies to the bwrap "
              "sandbox only, and this job is not isolated: add --process-isolation "
              "--process-isolation-executable bwrap, or drop it");
    auto podman = check_isolation_paths(hide, IsolationKind::container, "podman");
    ASSERT_FALSE(podman.ok());
    EXPECT_NE(podman.error().message.find("a podman container shows the job only its mounts"),
              std::string::npos);
    IsolationPaths staging;
    staging.staging_base = "/tmp";
    auto worker = check_isolation_paths(staging, IsolationKind::worker_container, "podman");
    ASSERT_FALSE(worker.ok());
    EXPECT_NE(worker.error().message.find("process_isolation_path (--process-isolation-path)"),
              std::string::npos);
    IsolationPaths dir;
    dir.directory_base = "/base";
    EXPECT_TRUE(check_isolation_paths(dir, IsolationKind::none, "").ok());
    EXPECT_TRUE(check_isolation_paths(dir, IsolationKind::sandbox, "").ok());
    for (auto kind :
         {IsolationKind::container, IsolationKind::worker_container, IsolationKind::command}) {
        auto refused = check_isolation_paths(dir, kind, "docker");
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().message.rfind(
                      "directory_isolation_base_path (--directory-isolation-base-path) ", 0),
                  0u)
            << refused.error().message;
    }
}

RunOptions sandbox_options(const fs::path& pdd) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = "job1";
    options.process_isolation = true;
    options.process_isolation_executable = "bwrap";
    return options;
}

TEST(SandboxJob, APlaybookRunIsWrappedAndRunsFromTheProject) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "inventory/hosts", "localhost\n");
    auto job = prepare_job(sandbox_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    Made made{job->remove_after_run};
    const fs::path real = fs::canonical(pdd.path());
    const Words& c = job->command;
    ASSERT_GT(c.size(), 4u);
    EXPECT_EQ(c.front(), "bwrap");
    EXPECT_EQ(Words(c.end() - 4, c.end()),
              (Words{"ansible-playbook", "-i", (pdd / "inventory").string(), "site.yml"}));
    auto chdir = std::find(c.begin(), c.end(), "--chdir");
    ASSERT_NE(chdir, c.end());
    EXPECT_EQ(*(chdir + 1), (real / "project").string());
    auto shown = std::find(c.begin(), c.end(), real.string());
    ASSERT_NE(shown, c.end());
    EXPECT_EQ(*(shown - 1), "--bind");
    EXPECT_FALSE(job->container);
    ASSERT_EQ(job->remove_after_run.size(), 1u);  // the staging dir
    EXPECT_EQ(job->remove_after_run[0].filename().string().rfind("ansible_runner_pi_", 0), 0u);
}

TEST(SandboxJob, AModuleRunsFromThePrivateDataDir) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = sandbox_options(pdd.path());
    options.playbook.reset();
    options.module = "ping";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    Made made{job->remove_after_run};
    auto chdir = std::find(job->command.begin(), job->command.end(), "--chdir");
    ASSERT_NE(chdir, job->command.end());
    EXPECT_EQ(*(chdir + 1), fs::canonical(pdd.path()).string());
}

TEST(SandboxJob, WhatCannotBeHonouredIsRefusedAndNothingIsLeft) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    RunOptions options = sandbox_options(pdd.path());
    options.process_isolation_executable = "nosuch-bwrap";
    auto job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(
        job.error().message.rfind("Unable to find process isolation executable: nosuch-bwrap", 0),
        0u);

    options = sandbox_options(pdd.path());
    options.process_isolation = false;
    options.process_isolation_ro_paths = {"/srv"};
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("process_isolation_ro_paths"), std::string::npos);

    options.process_isolation = true;
    options.process_isolation_executable = "podman";
    options.container_image = "localhost/arunner-ee";
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("a podman container"), std::string::npos);

    options.process_isolation_ro_paths.clear();
    options.directory_isolation_base_path = pdd / "base";
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("directory_isolation_base_path"), std::string::npos);

    options = sandbox_options(pdd.path());
    options.container_volume_mounts = {"/srv:/srv"};
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().message.rfind("container_volume_mounts applies to a container, not to "
                                        "the 'bwrap' sandbox",
                                        0),
              0u)
        << job.error().message;

    options = sandbox_options(pdd.path());
    options.playbook.reset();
    options.command = {"true"};
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("cannot run in the 'bwrap' sandbox"), std::string::npos);

    // A staging base that does not exist: the error names it and no copy is left in the base.
    fs::create_directories(pdd / "base");
    options = sandbox_options(pdd.path());
    options.directory_isolation_base_path = pdd / "base";
    options.process_isolation_path = pdd / "nope";
    job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("process_isolation_path"), std::string::npos);
    EXPECT_TRUE(fs::is_empty(pdd / "base"));
}

TEST(IsolationPaths, EmptyPathsAndACleanupWithoutABaseAreRefused) {
    RunOptions options;
    options.process_isolation_path = "";
    auto paths = read_isolation_paths(options, Json::object());
    ASSERT_FALSE(paths.ok());
    EXPECT_EQ(paths.error().message, "process_isolation_path must be a path, not empty");
    options.process_isolation_path.reset();
    paths = read_isolation_paths(options, Json{{"directory_isolation_base_path", ""}});
    ASSERT_FALSE(paths.ok());
    EXPECT_EQ(paths.error().message, "directory_isolation_base_path must be a path, not empty");
    paths = read_isolation_paths(options, Json{{"directory_isolation_cleanup", false}});
    ASSERT_TRUE(paths.ok()) << paths.error().message;
    auto refused = check_isolation_paths(*paths, IsolationKind::none, "");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("directory_isolation_cleanup (env/settings) applies "
                                           "only with directory_isolation_base_path"),
              std::string::npos);
}

TEST(SandboxJob, TheRunsInputsAreReadOnlyAndWhatItNeedsCannotBeHidden) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "inventory/hosts", "localhost\n");
    write(pdd / "env/extravars", "{}");
    auto job = prepare_job(sandbox_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    Made made{job->remove_after_run};
    const fs::path real = fs::canonical(pdd.path());
    const Words& c = job->command;
    for (const char* input : {"env", "inventory"}) {
        auto at = std::find(c.begin(), c.end(), (real / input).string());
        ASSERT_NE(at, c.end()) << input;
        EXPECT_EQ(*(at - 1), "--ro-bind") << input;
        EXPECT_LT(std::find(c.begin(), c.end(), real.string()), at) << "after the dir's own bind";
    }

    RunOptions options = sandbox_options(pdd.path());
    options.process_isolation_hide_paths = {pdd.path().string()};
    auto hidden = prepare_job(options);
    ASSERT_FALSE(hidden.ok());
    EXPECT_NE(hidden.error().message.find("is a directory the job needs"), std::string::npos)
        << hidden.error().message;

    options = sandbox_options(pdd.path());
    options.container_engine_socket = "/run/podman/podman.sock";
    auto socket = prepare_job(options);
    ASSERT_FALSE(socket.ok());
    EXPECT_NE(socket.error().message.find("container_engine_socket applies to a container"),
              std::string::npos);
}

TEST(SandboxJob, AProjectLinkedOutOfThePrivateDataDirIsNotShownUnlessConfigured) {
    // A job in an earlier sandbox could have replaced PDD/project with a link to anywhere.
    testing::TempDir dir;
    write(dir / "elsewhere/site.yml", "- hosts: all\n");
    fs::create_directories(dir / "pdd");
    fs::create_directory_symlink(dir / "elsewhere", dir / "pdd/project");
    RunOptions options = sandbox_options(dir / "pdd");
    options.directory_isolation_base_path = dir / "base";
    fs::create_directories(dir / "base");
    auto job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("it leads outside the private data dir"), std::string::npos)
        << job.error().message;
    EXPECT_TRUE(fs::is_empty(dir / "base")) << "nothing was copied";

    options.project_dir = dir / "pdd/project";  // configured: the user's choice, shown
    options.directory_isolation_base_path.reset();
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    Made made{job->remove_after_run};
    const std::string shown = fs::canonical(dir / "elsewhere").string();
    auto at = std::find(job->command.begin(), job->command.end(), shown);
    ASSERT_NE(at, job->command.end());
    EXPECT_EQ(*(at - 1), "--bind");
}

TEST(DirectoryIsolation, ARolesPlaybookRunsFromTheCopy) {
    testing::TempDir dir;
    const fs::path pdd = dir / "pdd";
    write(pdd / "project/keep.yml", "[]\n");
    fs::create_directories(dir / "base");
    RunOptions options;
    options.private_data_dir = pdd;
    options.role = "greet";
    options.directory_isolation_base_path = dir / "base";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    Made made{job->remove_after_run};
    const fs::path playbook = job->command.back();
    EXPECT_EQ(playbook.parent_path(), job->cwd) << "the copy's playbook, not the original's";
    EXPECT_EQ(job->cwd.parent_path(), dir / "base");
    EXPECT_TRUE(fs::exists(playbook));
}

TEST(DirectoryIsolation, TheProjectIsCopiedUnderTheBaseAndOnlyTheCopyIsRemoved) {
    testing::TempDir dir;
    const fs::path pdd = dir / "pdd";
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "project/roles/r/tasks/main.yml", "[]\n");
    write(dir / "base/keep.txt", "mine");
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.directory_isolation_base_path = dir / "base";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    Made made{job->remove_after_run};
    EXPECT_EQ(job->cwd.parent_path(), dir / "base");
    EXPECT_EQ(job->cwd.filename().string().rfind("runner_di_", 0), 0u);
    EXPECT_EQ(mode_of(job->cwd), 0700u);
    EXPECT_TRUE(fs::exists(job->cwd / "site.yml"));
    EXPECT_TRUE(fs::exists(job->cwd / "roles/r/tasks/main.yml"));
    EXPECT_EQ(job->remove_after_run, std::vector<fs::path>{job->cwd});
    EXPECT_EQ(job->command.back(), "site.yml");

    write(pdd / "env/settings", "directory_isolation_cleanup: false\n");
    auto kept = prepare_job(options);
    ASSERT_TRUE(kept.ok()) << kept.error().message;
    made.paths.push_back(kept->cwd);
    EXPECT_TRUE(kept->remove_after_run.empty());
    EXPECT_EQ(kept->cwd.parent_path(), dir / "base");
}

}  // namespace
}  // namespace arunner::config
