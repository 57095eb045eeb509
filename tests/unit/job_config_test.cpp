#include "config/job_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;
using Words = std::vector<std::string>;

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

RunOptions playbook_options(const fs::path& pdd) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = "job1";
    return options;
}

TEST(JobConfig, DefaultLayoutGivesAnsibleRunnersCommandCwdAndArtifactDir) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "inventory/hosts", "localhost\n");
    auto job = prepare_job(playbook_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command,
              (Words{"ansible-playbook", "-i", (pdd / "inventory").string(), "site.yml"}));
    EXPECT_EQ(job->cwd, pdd / "project");
    EXPECT_EQ(job->artifact_dir, pdd / "artifacts/job1");
    EXPECT_EQ(job->fact_cache_dir, pdd / "artifacts/job1/fact_cache");
    EXPECT_EQ(job->env.get("AWX_ISOLATED_DATA_DIR"), (pdd / "artifacts/job1").string());
    EXPECT_FALSE(job->job_timeout.has_value());
    EXPECT_FALSE(job->idle_timeout.has_value());
    EXPECT_EQ(job->pexpect_timeout, 5.0);
}

TEST(JobConfig, EnvFilesShapeTheRun) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "env/envvars", "FOO: bar\nFLAG: yes\nNUM: 3\n");
    write(pdd / "env/extravars", "{\"a\": 1}");
    write(pdd / "env/cmdline", "--check --tags 'a b'");
    write(pdd / "env/settings",
          "{\"job_timeout\": 30, \"idle_timeout\": 7, \"suppress_ansible_output\": true}");
    auto job = prepare_job(playbook_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "--check", "--tags", "a b", "-e",
                                   "@" + (pdd / "env/extravars").string(), "site.yml"}));
    EXPECT_EQ(job->env.get("FOO"), "bar");
    EXPECT_EQ(job->env.get("FLAG"), "True");
    EXPECT_EQ(job->env.get("NUM"), "3");
    EXPECT_EQ(job->job_timeout, 30.0);
    EXPECT_EQ(job->idle_timeout, 7.0);
    EXPECT_TRUE(job->suppress_ansible_output);
}

TEST(JobConfig, TimeoutOptionOverridesTheSetting) {
    testing::TempDir pdd;
    write(pdd / "env/settings", "job_timeout: 30\n");
    RunOptions options = playbook_options(pdd.path());
    options.timeout = 2.9;
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->job_timeout, 2.0);
}

TEST(JobConfig, CmdlineOptionIsDumpedToEnvCmdlineOnlyWhenAbsent) {
    testing::TempDir pdd;
    RunOptions options = playbook_options(pdd.path());
    options.cmdline = "--check";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command[1], "--check");
    std::ifstream in(pdd / "env/cmdline");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "--check");

    options.cmdline = "--diff";
    job = prepare_job(options);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->command[1], "--diff");  // the option still wins for this run
    std::ifstream again(pdd / "env/cmdline");
    std::string kept((std::istreambuf_iterator<char>(again)), {});
    EXPECT_EQ(kept, "--check");
}

TEST(JobConfig, SuppressEnvFilesWritesNothing) {
    testing::TempDir pdd;
    RunOptions options = playbook_options(pdd.path());
    options.cmdline = "--check";
    options.suppress_env_files = true;
    ASSERT_TRUE(prepare_job(options).ok());
    EXPECT_FALSE(fs::exists(pdd / "env/cmdline"));
}

TEST(JobConfig, ArgsFileIsTheWholeCommand) {
    testing::TempDir pdd;
    write(pdd / "args", "echo 'hello world'");
    auto job = prepare_job(playbook_options(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"echo", "hello world"}));
    EXPECT_EQ(job->cwd, pdd.path());  // no project dir
}

TEST(JobConfig, AdHocRunsFromThePrivateDataDir) {
    testing::TempDir pdd;
    fs::create_directories(pdd / "project");
    RunOptions options;
    options.private_data_dir = pdd.path();
    options.module = "ping";
    options.host_pattern = "localhost";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->command, (Words{"ansible", "-m", "ping", "localhost"}));
    EXPECT_EQ(job->cwd, pdd.path());
    EXPECT_EQ(job->ident.size(), 36u);
}

TEST(JobConfig, BadInputIsAnErrorThatNamesIt) {
    testing::TempDir tmp;
    RunOptions options = playbook_options(tmp / "missing");
    auto missing = prepare_job(options);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);

    write(tmp / "afile", "x");
    auto file = prepare_job(playbook_options(tmp / "afile"));
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.error().message.find("is not a directory"), std::string::npos);

    write(tmp / "pdd/env/settings", "job_timeout: [1\n");
    auto malformed = prepare_job(playbook_options(tmp / "pdd"));
    ASSERT_FALSE(malformed.ok());
    EXPECT_NE(malformed.error().message.find("env/settings"), std::string::npos);
    EXPECT_NE(malformed.error().message.find("line"), std::string::npos);

    write(tmp / "pdd2/env/settings", "job_timeout: soon\n");
    auto wrong_type = prepare_job(playbook_options(tmp / "pdd2"));
    ASSERT_FALSE(wrong_type.ok());
    EXPECT_NE(wrong_type.error().message.find("job_timeout"), std::string::npos);

    write(tmp / "pdd3/env/cmdline", "--tags 'unclosed");
    auto cmdline = prepare_job(playbook_options(tmp / "pdd3"));
    ASSERT_FALSE(cmdline.ok());
    EXPECT_NE(cmdline.error().message.find("env/cmdline"), std::string::npos);

    RunOptions both = playbook_options(tmp / "pdd3");
    both.module = "ping";
    auto conflict = prepare_job(both);
    ASSERT_FALSE(conflict.ok());
    EXPECT_EQ(conflict.error().message, "Only one of playbook and module options are allowed");
}

}  // namespace
}  // namespace arunner::config
