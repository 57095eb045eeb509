#include "config/ansible_command.hpp"

#include <gtest/gtest.h>

namespace arunner::config {
namespace {

using Words = std::vector<std::string>;

TEST(AnsibleCommand, PlaybookWithInventory) {
    CommandInputs in;
    in.playbook = "main.yaml";
    in.inventories = {"/pdd/inventory"};
    EXPECT_EQ(build_ansible_command(in),
              (Words{"ansible-playbook", "-i", "/pdd/inventory", "main.yaml"}));
}

TEST(AnsibleCommand, FullOrderMatchesAnsibleRunner) {
    CommandInputs in;
    in.playbook = "site.yml";
    in.cmdline_tokens = {"--check", "--diff"};
    in.inventories = {"/a", "/b"};
    in.limit = "web";
    in.extravars_file = "/pdd/env/extravars";
    in.api_extravars_file = "/pdd/env/api-extravars-x.json";
    in.verbosity = 3;
    in.tags = "t1";
    in.skip_tags = "t2";
    in.forks = "5";
    EXPECT_EQ(build_ansible_command(in), (Words{"ansible-playbook",
                                                "--check",
                                                "--diff",
                                                "-i",
                                                "/a",
                                                "-i",
                                                "/b",
                                                "--limit",
                                                "web",
                                                "-e",
                                                "@/pdd/env/extravars",
                                                "-e",
                                                "@/pdd/env/api-extravars-x.json",
                                                "-vvv",
                                                "--tags",
                                                "t1",
                                                "--skip-tags",
                                                "t2",
                                                "--forks",
                                                "5",
                                                "site.yml"}));
}

TEST(AnsibleCommand, AdHocModule) {
    CommandInputs in;
    in.module = "setup";
    in.module_args = "filter=ansible_os_family";
    in.host_pattern = "localhost";
    in.inventories = {"/inv"};
    EXPECT_EQ(build_ansible_command(in), (Words{"ansible", "-i", "/inv", "-m", "setup", "-a",
                                                "filter=ansible_os_family", "localhost"}));
}

TEST(AnsibleCommand, BinaryIsRawModeWithoutPlaybookOrModule) {
    CommandInputs in;
    in.binary = "/usr/bin/env";
    in.playbook = "ignored.yml";
    in.limit = "x";
    in.verbosity = 1;
    EXPECT_EQ(build_ansible_command(in), (Words{"/usr/bin/env", "--limit", "x", "-v"}));
}

TEST(AnsibleCommand, EmptyExtravarsAndZeroVerbosityAddNothing) {
    CommandInputs in;
    in.playbook = "p.yml";
    in.forks = "";
    EXPECT_EQ(build_ansible_command(in), (Words{"ansible-playbook", "p.yml"}));
}

}  // namespace
}  // namespace arunner::config
