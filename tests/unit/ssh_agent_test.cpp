#include "config/ssh_agent.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "config/job_config.hpp"
#include "support/temp_dir.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;
using Words = std::vector<std::string>;

const Words kArgs = {"ansible-playbook",    "-i",           "/pdd/inventory", "-e",
                     "@/pdd/env/extravars", "it's site.yml"};

// The expected words were printed by Debian's ansible-runner 2.3.1:
// BaseConfig.wrap_args_with_ssh_agent(kArgs, path[, sock, silence_ssh_add]).
TEST(SshAgent, WrapIsAnsibleRunnersByteForByte) {
    EXPECT_EQ(wrap_with_ssh_agent(kArgs, "/pdd/artifacts/id1/ssh_key_data"),
              (Words{"ssh-agent", "sh", "-c",
                     "trap 'rm -f /pdd/artifacts/id1/ssh_key_data' EXIT && ssh-add "
                     "/pdd/artifacts/id1/ssh_key_data && rm -f /pdd/artifacts/id1/ssh_key_data "
                     "&& ansible-playbook -i /pdd/inventory -e @/pdd/env/extravars "
                     "'it'\"'\"'s site.yml'"}));
    EXPECT_EQ(
        wrap_with_ssh_agent(kArgs, "/pdd/artifacts/id1/ssh_key_data", "/tmp/s/agent.sock", true),
        (Words{"ssh-agent", "-a", "/tmp/s/agent.sock", "sh", "-c",
               "trap 'rm -f /pdd/artifacts/id1/ssh_key_data' EXIT && ssh-add "
               "/pdd/artifacts/id1/ssh_key_data 2>/dev/null && rm -f "
               "/pdd/artifacts/id1/ssh_key_data && ansible-playbook -i /pdd/inventory -e "
               "@/pdd/env/extravars 'it'\"'\"'s site.yml'"}));
}

// ansible-runner leaves P unquoted in `rm -f P` (its `rm -f /p d/...` would remove "/p" and
// "d/..."); arunner quotes it there too.
TEST(SshAgent, APathThatNeedsQuotingIsQuotedEverywhere) {
    auto words = wrap_with_ssh_agent({"ansible-playbook"}, "/p d/artifacts/id1/ssh_key_data");
    EXPECT_EQ(words.back(),
              "trap 'rm -f '\"'\"'/p d/artifacts/id1/ssh_key_data'\"'\"'' EXIT && ssh-add '/p "
              "d/artifacts/id1/ssh_key_data' && rm -f '/p d/artifacts/id1/ssh_key_data' && "
              "ansible-playbook");
}

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

RunOptions options_for(const fs::path& pdd) {
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = "job1";
    return options;
}

TEST(SshAgent, EnvSshKeyWrapsTheCommandWithAPrivateAgentSocket) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "env/ssh_key", "KEY TEXT\n");
    auto job = prepare_job(options_for(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->ssh_key);
    EXPECT_EQ(job->ssh_key->key, "KEY TEXT\n");
    EXPECT_EQ(job->ssh_key->source, "env/ssh_key");
    const std::string fifo = (pdd / "artifacts/job1/ssh_key_data").string();
    EXPECT_EQ(job->ssh_key->fifo_path, fifo);
    const auto& sock = job->ssh_key->agent_socket;
    EXPECT_EQ(fs::path(sock).parent_path(), job->ssh_key->agent_socket_dir);
    EXPECT_TRUE(fs::path(sock).filename() == "agent.sock");
    EXPECT_LT(sock.size(), 108U);                              // a unix socket path
    EXPECT_FALSE(fs::exists(job->ssh_key->agent_socket_dir));  // made by the run, not here
    EXPECT_EQ(job->command, wrap_with_ssh_agent({"ansible-playbook", "site.yml"}, fifo, sock));
    // The key is on no argv and in no environment variable.
    for (const auto& word : job->command) {
        EXPECT_EQ(word.find("KEY TEXT"), std::string::npos);
    }
    for (const auto& [name, value] : job->env.entries()) {
        EXPECT_EQ(value.find("KEY TEXT"), std::string::npos) << name;
    }
}

TEST(SshAgent, TheOptionWinsOverEnvSshKeyAndIsNeverWrittenToAFile) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    auto options = options_for(pdd.path());
    options.ssh_key = "OPTION KEY";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->ssh_key);
    EXPECT_EQ(job->ssh_key->key, "OPTION KEY\n");  // the final newline OpenSSH needs
    EXPECT_EQ(job->ssh_key->source, "the ssh_key option");
    EXPECT_FALSE(fs::exists(pdd / "env/ssh_key"));  // ansible-runner's dump_artifacts writes it

    write(pdd / "env/ssh_key", "FILE KEY");
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_EQ(job->ssh_key->key, "OPTION KEY\n");
    // An empty option means no key, as ansible-runner's `ssh_key=""` (env/ssh_key is not read).
    options.ssh_key = "";
    job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(job->ssh_key);
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "site.yml"}));
}

TEST(SshAgent, NoKeyOrAnEmptyFileLeavesTheCommandAlone) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    auto job = prepare_job(options_for(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(job->ssh_key);
    write(pdd / "env/ssh_key", "");
    job = prepare_job(options_for(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_FALSE(job->ssh_key);
    EXPECT_EQ(job->command, (Words{"ansible-playbook", "site.yml"}));
}

TEST(SshAgent, RawArgsAreWrappedToo) {
    testing::TempDir pdd;
    write(pdd / "args", "echo hi");
    write(pdd / "env/ssh_key", "K");
    auto job = prepare_job(options_for(pdd.path()));
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->ssh_key);
    EXPECT_EQ(job->command.front(), "ssh-agent");
    EXPECT_TRUE(job->command.back().ends_with(" && echo hi"));
}

TEST(SshAgent, InAContainerTheAgentRunsInsideWithTheContainersPath) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    write(pdd / "env/ssh_key", "K");
    auto options = options_for(pdd.path());
    options.process_isolation = true;
    options.container_image = "localhost/arunner-ee";
    auto job = prepare_job(options);
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(job->ssh_key);
    EXPECT_EQ(job->ssh_key->fifo_path, "/runner/artifacts/job1/ssh_key_data");
    EXPECT_TRUE(job->ssh_key->agent_socket_dir.empty());
    EXPECT_EQ(job->command,
              wrap_with_ssh_agent({"ansible-playbook", "-i", "/runner/inventory", "site.yml"},
                                  "/runner/artifacts/job1/ssh_key_data"));
}

TEST(SshAgent, AnUnreadableEnvSshKeyIsAnError) {
    testing::TempDir pdd;
    write(pdd / "project/site.yml", "- hosts: all\n");
    fs::create_directories(pdd / "env/ssh_key");  // a directory
    auto job = prepare_job(options_for(pdd.path()));
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message.find("env/ssh_key"), std::string::npos) << job.error().message;
}

}  // namespace
}  // namespace arunner::config
