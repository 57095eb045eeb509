// env/ssh_key in containers (docs/ssh-keys.md), logging in over ssh to a private sshd on the
// host (tests/support/sshd.hpp; the container shares the host's network): with process
// isolation the agent runs inside the container, which ends it; a worker container gets the key
// in the transmitted private data dir and its own run loads it the same way.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support/command.hpp"
#include "support/podman_service.hpp"
#include "support/sshd.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLoginPlay = R"(- hosts: target
  gather_facts: false
  tasks:
    - name: who am i over ssh
      command: id -un
      register: who
    - name: report
      debug:
        msg: "logged in as {{ who.stdout }}"
)";

class SshKeyContainer : public EngineSuite {
  public:
    using EngineSuite::container_run;

    static fs::path make_pdd(const TempDir& tmp, const TestSshd& sshd) {
        fs::path pdd = tmp / "pdd";
        fs::create_directories(pdd / "project");
        fs::create_directories(pdd / "inventory");
        fs::create_directories(pdd / "env");
        std::ofstream(pdd / "project/site.yml") << kLoginPlay;
        std::ofstream(pdd / "inventory/hosts") << sshd.inventory();
        std::ofstream(pdd / "env/ssh_key") << sshd.private_key();
        return pdd;
    }

    size_t containers_of(const std::string& ident) {
        auto listed = service_->engine().list(std::string("arunner.ident=") + ident);
        EXPECT_TRUE(listed.ok()) << listed.error().message;
        return listed.ok() ? listed->size() : 99;
    }

    static void expect_key_in_no_artifact(const fs::path& art, const std::string& key) {
        std::string body = key.substr(key.find('\n') + 1, 40);
        for (const auto& entry : fs::recursive_directory_iterator(art)) {
            if (entry.is_regular_file()) {
                EXPECT_EQ(read_text(entry.path()).find(body), std::string::npos) << entry.path();
            }
        }
    }
};

std::string unique_ident(const std::string& what) {
    return "t" + std::to_string(::getpid()) + "_" + what;
}

TEST_F(SshKeyContainer, ProcessIsolationLogsInWithTheKeyInAnAgentInsideTheContainer) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = make_pdd(tmp, sshd);
    const std::string ident = unique_ident("sshpi");
    CommandResult r = run_command(
        container_run(pdd, ident, "--process-isolation", {"--container-option=--network=host"}));
    fs::path art = pdd / "artifacts" / ident;
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    std::string stdout_text = read_text(art / "stdout");
    const std::string inner = "/runner/artifacts/" + ident + "/ssh_key_data";
    EXPECT_NE(stdout_text.find("Identity added: " + inner), std::string::npos) << stdout_text;
    EXPECT_NE(stdout_text.find("logged in as root"), std::string::npos) << stdout_text;
    // ansible-runner's wrapper, the container's path, no socket of arunner's (the container's
    // end is the agent's).
    auto command = nlohmann::json::parse(read_text(art / "command"), nullptr, false);
    ASSERT_TRUE(command.is_object());
    EXPECT_EQ(command["command"][0], "ssh-agent");
    EXPECT_EQ(command["command"][1], "sh");
    EXPECT_TRUE(command["command"][3].get<std::string>().starts_with(
        "trap 'rm -f " + inner + "' EXIT && ssh-add " + inner + " && rm -f " + inner +
        " && ansible-playbook -i /runner/inventory "));
    EXPECT_FALSE(fs::exists(fs::symlink_status(art / "ssh_key_data")));
    EXPECT_EQ(containers_of(ident), 0u);
    expect_key_in_no_artifact(art, sshd.private_key());
}

// The worker's own run loads the key from the transmitted env/ssh_key. The worker is this build's
// arunner, mounted read-only (the image's may predate ssh keys), or Debian's ansible-runner from
// the image.
void expect_worker_loads_the_key(SshKeyContainer& suite, const std::string& ident,
                                 const std::string& worker) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = SshKeyContainer::make_pdd(tmp, sshd);
    const fs::path build = fs::path(ARUNNER_BINARY).parent_path();
    CommandResult r = run_command(SshKeyContainer::container_run(
        pdd, ident, "--container-worker",
        {"--container-option=--network=host", "--container-volume-mount",
         build.string() + ":/opt/arunner-build:ro", "--container-worker-command", worker}));
    fs::path art = pdd / "artifacts" / ident;
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    std::string stdout_text = read_text(art / "stdout");
    EXPECT_NE(stdout_text.find("Identity added: "), std::string::npos) << stdout_text;
    EXPECT_NE(stdout_text.find("logged in as root"), std::string::npos) << stdout_text;
    EXPECT_EQ(suite.containers_of(ident), 0u);
    SshKeyContainer::expect_key_in_no_artifact(art, sshd.private_key());
}

TEST_F(SshKeyContainer, AWorkerContainerLoadsTheTransmittedKey) {
    expect_worker_loads_the_key(*this, unique_ident("sshwk"), "/opt/arunner-build/arunner worker");
}

TEST_F(SshKeyContainer, AnsibleRunnersWorkerLoadsTheKeyArunnerTransmits) {
    expect_worker_loads_the_key(*this, unique_ident("sshar"), "ansible-runner worker");
}

}  // namespace
}  // namespace arunner::testing
