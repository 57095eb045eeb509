// run_command's part of prepare_job (config/command_job.cpp): the command as given, never an
// ansible argument added (not even PDD/args or env/cmdline), the cwd (host_cwd or the current
// directory), the fds (subprocess mode only, open ones), subprocess_timeout, and every field of
// a playbook run refused by name.

#include "config/command_job.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "config/job_config.hpp"
#include "support/temp_dir.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;
using Words = std::vector<std::string>;

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

RunOptions command_options(const fs::path& pdd, Words command) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.command = std::move(command);
    options.ident = "c1";
    return options;
}

TEST(CommandJob, TheCommandIsRunAsGivenInTheCurrentDirectory) {
    testing::TempDir pdd;
    write(pdd / "args", "ansible-playbook other.yml\n");
    write(pdd / "env/cmdline", "--forks 3\n");
    write(pdd / "inventory/hosts", "localhost\n");
    write(pdd / "project/site.yml", "- hosts: all\n");
    auto job = prepare_job(command_options(pdd.path(), {"ansible-playbook", "-i", "inv", "x.yml"}));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "-i", "inv", "x.yml"}));
    EXPECT_EQ(job->cwd, fs::current_path());
    EXPECT_EQ(job->artifact_dir, pdd / "artifacts/c1");
    // The callback plugin is set up as for any run: a playbook run this way has its events.
    EXPECT_EQ(job->env.get("ANSIBLE_STDOUT_CALLBACK"), "awx_display");
    EXPECT_EQ(job->env.get("AWX_ISOLATED_DATA_DIR"), (pdd / "artifacts/c1").string());
}

TEST(CommandJob, HostCwdIsTheCwdAndMustBeADirectory) {
    testing::TempDir pdd;
    testing::TempDir cwd;
    auto options = command_options(pdd.path(), {"ls"});
    options.host_cwd = cwd.path();
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->cwd, cwd.path());
    options.host_cwd = cwd / "missing";
    auto missing = prepare_job(options);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("host_cwd"), std::string::npos);
    EXPECT_NE(missing.error().message.find((cwd / "missing").string()), std::string::npos);
    write(cwd / "file", "x");
    options.host_cwd = cwd / "file";
    auto file = prepare_job(options);
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.error().message.find("is not a directory"), std::string::npos);
}

TEST(CommandJob, FieldsOfAPlaybookRunAreRefusedByName) {
    testing::TempDir pdd;
    auto options = command_options(pdd.path(), {"ls"});
    options.playbook = "site.yml";
    options.inventory = "/etc/hosts";
    options.verbosity = 2;
    options.extravars = {{"a", 1}};
    auto job = prepare_job(options);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().message,
              "a command runs as it is given, so it takes no playbook, inventory, verbosity, "
              "extravars (put them in the command's arguments)");
    auto binary = command_options(pdd.path(), {"ls"});
    binary.binary = "/usr/bin/ansible-playbook";
    binary.module = "ping";
    auto refused = prepare_job(binary);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("module, binary"), std::string::npos)
        << refused.error().message;
}

TEST(CommandJob, FdsAreForSubprocessModeOnly) {
    testing::TempDir pdd;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    auto options = command_options(pdd.path(), {"cat"});
    options.input_fd = fds[0];
    auto pexpect = prepare_job(options);
    ASSERT_FALSE(pexpect.ok());
    EXPECT_EQ(pexpect.error().message, "input_fd is applicable only with 'subprocess' runner mode");
    options.input_fd = -1;
    options.output_fd = fds[1];
    auto output = prepare_job(options);
    ASSERT_FALSE(output.ok());
    EXPECT_EQ(output.error().message, "output_fd is applicable only with 'subprocess' runner mode");

    options.runner_mode = RunnerMode::subprocess;
    options.input_fd = fds[0];
    options.error_fd = fds[1];
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->input_fd, fds[0]);
    EXPECT_EQ(job->output_fd, fds[1]);
    EXPECT_EQ(job->error_fd, fds[1]);
    ::close(fds[0]);
    ::close(fds[1]);
    auto closed = prepare_job(options);
    ASSERT_FALSE(closed.ok());
    EXPECT_EQ(closed.error().message,
              "input_fd " + std::to_string(fds[0]) + " is not an open file descriptor");
}

TEST(CommandJob, SubprocessTimeoutLimitsASubprocessCommand) {
    testing::TempDir pdd;
    write(pdd / "env/settings", "{\"subprocess_timeout\": 7, \"job_timeout\": 100}");
    auto options = command_options(pdd.path(), {"sleep", "1"});
    auto pexpect = prepare_job(options);
    ASSERT_TRUE(pexpect.ok()) << pexpect.error().message;
    EXPECT_EQ(pexpect->job_timeout, 100.0);
    options.runner_mode = RunnerMode::subprocess;
    auto subprocess = prepare_job(options);
    ASSERT_TRUE(subprocess.ok()) << subprocess.error().message;
    EXPECT_EQ(subprocess->job_timeout, 7.0);
    options.timeout = 3;  // the option wins, as in ansible-runner
    auto timeout = prepare_job(options);
    ASSERT_TRUE(timeout.ok()) << timeout.error().message;
    EXPECT_EQ(timeout->job_timeout, 3.0);
}

TEST(CommandJob, NotInAWorkerContainer) {
    testing::TempDir pdd;
    auto options = command_options(pdd.path(), {"ls"});
    options.container_worker = true;
    auto worker = prepare_job(options);
    ASSERT_FALSE(worker.ok());
    EXPECT_NE(worker.error().message.find("worker container"), std::string::npos);
    options.container_worker.reset();
    options.runner_mode = RunnerMode::subprocess;
    options.process_isolation = true;
    options.output_fd = 1;
    auto fds = prepare_job(options);
    ASSERT_FALSE(fds.ok());
    EXPECT_NE(fds.error().message.find("process-isolated"), std::string::npos)
        << fds.error().message;
}

bool has(const Words& words, const std::string& word) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

TEST(CommandJob, InAContainerHostCwdIsTheWorkdirAndFileArgumentsAreMounted) {
    testing::TempDir pdd;
    testing::TempDir cwd;
    write(cwd / "play/site.yml", "- hosts: all\n");
    write(cwd / "inv/hosts", "localhost\n");
    auto options =
        command_options(pdd.path(), {"ansible-playbook", "-i", (cwd / "inv/hosts").string(), "-i",
                                     "web1,", (cwd / "play/site.yml").string()});
    options.process_isolation = true;
    options.host_cwd = cwd.path();
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->container.has_value());
    EXPECT_EQ(job->container->workdir, cwd.path().string());
    EXPECT_EQ(job->cwd, cwd.path());
    const Words& mounts = job->container->volume_mounts;
    EXPECT_TRUE(has(mounts, cwd.path().string() + ":" + cwd.path().string()));
    EXPECT_TRUE(
        has(mounts, (cwd / "play/site.yml").string() + ":" + (cwd / "play/site.yml").string()));
    EXPECT_TRUE(has(mounts, (cwd / "inv/hosts").string() + ":" + (cwd / "inv/hosts").string()));
    EXPECT_TRUE(has(mounts, (pdd / "artifacts").string() + ":/runner/artifacts:Z"));
    for (const auto& m : mounts) {
        EXPECT_EQ(m.find("web1,"), std::string::npos) << m;  // a host list is no file
    }
    EXPECT_TRUE(has(job->container->options, "--group-add=root"));
    EXPECT_TRUE(has(job->container->options, "--ipc=host"));
    EXPECT_TRUE(fs::is_directory(pdd / "project"));
    EXPECT_EQ(job->command[0], "ansible-playbook");

    options.container_workdir = "/srv";  // wins over host_cwd, which is then not mounted
    auto workdir = prepare_job(options);
    ASSERT_TRUE(workdir.ok()) << workdir.error().message;
    EXPECT_EQ(workdir->container->workdir, "/srv");
    EXPECT_FALSE(
        has(workdir->container->volume_mounts, cwd.path().string() + ":" + cwd.path().string()));
    options.container_workdir.reset();
    options.host_cwd.reset();
    auto project = prepare_job(options);
    ASSERT_TRUE(project.ok()) << project.error().message;
    EXPECT_EQ(project->container->workdir, "/runner/project");
}

TEST(CommandJob, AnEmptyExecutableIsRefused) {
    testing::TempDir pdd;
    auto job = prepare_job(command_options(pdd.path(), {""}));
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().message, "the command's executable is empty");
}

}  // namespace
}  // namespace arunner::config
