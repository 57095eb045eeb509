// env/ssh_key end to end (docs/ssh-keys.md): a playbook logs in over ssh to a private sshd
// (tests/support/sshd.hpp) with nothing but the key arunner loads into the run's own ssh-agent,
// and after the run (also a canceled or timed-out one) no agent, no FIFO and no copy of the key
// is left.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "arunner/runner.hpp"
#include "exec/ssh_agent_socket.hpp"
#include "support/command.hpp"
#include "support/sshd.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

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

// The target is reached first (so the key was loaded), then a local sleep to cancel or time out.
constexpr const char* kSleepPlay = R"(- hosts: target
  gather_facts: false
  tasks:
    - name: reach the target
      ping:
    - name: sleep here
      command: sleep 300
      delegate_to: localhost
      vars:
        ansible_connection: local
)";

/// A private data dir whose inventory is the test's sshd, with HOME a fresh dir (no ~/.ansible,
/// no ssh config of the user's).
fs::path make_pdd(const TempDir& tmp, const TestSshd& sshd, const char* play,
                  const std::optional<std::string>& key) {
    fs::path pdd = tmp / "pdd";
    fs::create_directories(pdd / "project");
    fs::create_directories(pdd / "inventory");
    fs::create_directories(pdd / "env");
    fs::create_directories(tmp / "home");
    std::ofstream(pdd / "project/site.yml") << play;
    std::ofstream(pdd / "inventory/hosts") << sshd.inventory();
    std::ofstream(pdd / "env/envvars") << nlohmann::json{{"HOME", (tmp / "home").string()}}.dump();
    if (key) {
        std::ofstream(pdd / "env/ssh_key") << *key;
    }
    return pdd;
}

/// The agent socket the run's command names (`ssh-agent -a SOCK ...` in ART/command, maybe
/// inside the sandbox's command line).
std::string agent_socket(const fs::path& art) {
    auto command = nlohmann::json::parse(read_text(art / "command"), nullptr, false);
    if (!command.is_object() || !command["command"].is_array()) {
        return {};
    }
    const auto& words = command["command"];
    for (size_t i = 0; i + 2 < words.size(); ++i) {
        if (words[i] == "ssh-agent" && words[i + 1] == "-a" && words[i + 2].is_string()) {
            return words[i + 2].get<std::string>();
        }
    }
    return {};
}

/// Live ssh-agent processes of the run: any whose command line names its socket.
std::vector<int> agents_of(const std::string& socket) {
    std::vector<int> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::string cmdline = read_text(entry.path() / "cmdline");
        std::string stat = read_text(entry.path() / "stat");
        if (cmdline.starts_with(std::string("ssh-agent\0-a\0", 13) + socket + '\0') &&
            stat.find(") Z ") == std::string::npos) {
            found.push_back(std::stoi(name));
        }
    }
    return found;
}

/// Nothing of the key is left: no FIFO, no agent, no agent socket dir, and no artifact file
/// holds the key's text.
void expect_nothing_left(const fs::path& art, const std::string& key) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(art / "ssh_key_data")));
    const std::string socket = agent_socket(art);
    ASSERT_FALSE(socket.empty()) << read_text(art / "command");
    EXPECT_TRUE(agents_of(socket).empty());
    EXPECT_TRUE(exec::processes_on_unix_socket(socket).empty());
    EXPECT_FALSE(fs::exists(fs::path(socket).parent_path()));
    EXPECT_TRUE(processes_with_environment(art_env(art)).empty());
    // The base64 body of the key (its second line) is in no artifact.
    std::string body = key.substr(key.find('\n') + 1, 40);
    for (const auto& entry : fs::recursive_directory_iterator(art)) {
        if (entry.is_regular_file()) {
            EXPECT_EQ(read_text(entry.path()).find(body), std::string::npos) << entry.path();
        }
    }
}

TEST(SshKey, APlaybookLogsInWithOnlyTheKeyFromEnvSshKey) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = make_pdd(tmp, sshd, kLoginPlay, sshd.private_key());
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "k1"}));
    fs::path art = pdd / "artifacts/k1";
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "successful");
    std::string stdout_text = read_text(art / "stdout");
    EXPECT_NE(stdout_text.find("Identity added: " + (art / "ssh_key_data").string()),
              std::string::npos)
        << stdout_text;
    EXPECT_NE(stdout_text.find("logged in as root"), std::string::npos) << stdout_text;
    // ART/command is ansible-runner's wrapper, with arunner's private agent socket.
    std::string command = read_text(art / "command");
    const std::string fifo = (art / "ssh_key_data").string();
    EXPECT_NE(command.find("\"sh\", \"-c\", \"trap 'rm -f " + fifo + "' EXIT && ssh-add " + fifo +
                           " && rm -f " + fifo + " && ansible-playbook -i "),
              std::string::npos)
        << command;
    expect_nothing_left(art, sshd.private_key());
}

// In the bwrap sandbox the ssh-agent wrapper runs inside it (ansible-runner's order): the agent's
// socket dir is shown to the sandbox so the agent can be ended from outside, and it is.
TEST(SshKey, InTheBwrapSandboxTheAgentRunsInsideAndIsEndedAfter) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = make_pdd(tmp, sshd, kLoginPlay, sshd.private_key());
    CommandResult r =
        run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "kb",
                             "--process-isolation", "--process-isolation-executable", "bwrap"}));
    fs::path art = pdd / "artifacts/kb";
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << read_text(art / "stdout");
    std::string stdout_text = read_text(art / "stdout");
    EXPECT_NE(stdout_text.find("logged in as root"), std::string::npos) << stdout_text;
    auto command = nlohmann::json::parse(read_text(art / "command"));
    ASSERT_EQ(command["command"][0], "bwrap");
    EXPECT_FALSE(agent_socket(art).empty()) << command.dump();
    expect_nothing_left(art, sshd.private_key());
}

// A passphrase-protected key: ssh-add asks for the passphrase on the job's terminal and
// env/passwords answers it (AWX's ssh_key_unlock); the passphrase appears nowhere.
TEST(SshKey, APassphraseProtectedKeyIsUnlockedThroughEnvPasswords) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    const std::string passphrase = "key-unlock-5150-phrase";
    fs::path key_file = tmp / "locked_key";
    std::ofstream(key_file) << sshd.private_key();
    fs::permissions(key_file, fs::perms::owner_read | fs::perms::owner_write);
    CommandResult locked = run_command(
        {"ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", key_file.string()});
    ASSERT_EQ(locked.exit_code, 0) << locked.out << locked.err;
    const std::string locked_key = read_text(key_file);
    fs::path pdd = make_pdd(tmp, sshd, kLoginPlay, locked_key);
    std::ofstream(pdd / "env/passwords")
        << nlohmann::json{{"Enter passphrase for .*:\\s*?$", passphrase}}.dump();
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "pp"}));
    fs::path art = pdd / "artifacts/pp";
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string stdout_text = read_text(art / "stdout");
    EXPECT_NE(stdout_text.find("Enter passphrase for"), std::string::npos) << stdout_text;
    EXPECT_NE(stdout_text.find("logged in as root"), std::string::npos) << stdout_text;
    EXPECT_EQ((r.out + r.err).find(passphrase), std::string::npos);
    for (const auto& entry : fs::recursive_directory_iterator(art)) {
        if (entry.is_regular_file()) {
            EXPECT_EQ(read_text(entry.path()).find(passphrase), std::string::npos) << entry.path();
        }
    }
    expect_nothing_left(art, locked_key);
}

// The same login without the key is refused: the test's key is the only way in.
TEST(SshKey, WithoutTheKeyTheLoginFails) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = make_pdd(tmp, sshd, kLoginPlay, std::nullopt);
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "nokey"}));
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(read_text(pdd / "artifacts/nokey/stdout").find("UNREACHABLE"), std::string::npos);
}

// The library, in a process that is no subreaper (this test's): the ssh_key option (a key that
// lost its final newline), and the agent gone when run() returns.
TEST(SshKey, TheLibrarysSshKeyOptionLogsInAndLeavesNoAgent) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = make_pdd(tmp, sshd, kLoginPlay, std::nullopt);
    RunOptions options;
    options.private_data_dir = pdd;
    options.playbook = "site.yml";
    options.ident = "lib";
    options.console_fd = -1;
    // Without its final newline, as a key kept in YAML or JSON often is: OpenSSH needs it back.
    std::string key = sshd.private_key();
    while (!key.empty() && key.back() == '\n') {
        key.pop_back();
    }
    options.ssh_key = key;
    auto runner = run(options);
    ASSERT_TRUE(runner.ok()) << runner.error().message;
    fs::path art = pdd / "artifacts/lib";
    EXPECT_EQ((*runner)->status(), JobStatus::successful) << read_text(art / "stdout");
    EXPECT_FALSE(fs::exists(pdd / "env/ssh_key"));  // ansible-runner would write it there
    expect_nothing_left(art, sshd.private_key());
}

TEST(SshKey, ACanceledRunLeavesNoAgent) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = make_pdd(tmp, sshd, kSleepPlay, sshd.private_key());
    fs::path art = pdd / "artifacts/kc";
    BackgroundCommand job(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "kc"}));
    ASSERT_TRUE(wait_until(
        [&] { return read_text(art / "stdout").find("TASK [sleep here") != std::string::npos; },
        120s))
        << job.current_output();
    ASSERT_FALSE(agents_of(agent_socket(art)).empty()) << "the agent should run now";
    ::kill(job.pid(), SIGTERM);
    CommandResult r = job.finish();
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "canceled");
    expect_nothing_left(art, sshd.private_key());
}

TEST(SshKey, ATimedOutRunLeavesNoAgent) {
    TestSshd sshd;
    ASSERT_TRUE(sshd.ok()) << sshd.error();
    TempDir tmp;
    fs::path pdd = make_pdd(tmp, sshd, kSleepPlay, sshd.private_key());
    std::ofstream(pdd / "env/settings") << "job_timeout: 20\n";
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "kt"}));
    fs::path art = pdd / "artifacts/kt";
    EXPECT_EQ(r.exit_code, 254) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "timeout");
    EXPECT_NE(read_text(art / "stdout").find("Identity added"), std::string::npos);
    expect_nothing_left(art, sshd.private_key());
}

TEST(SshKey, AKeySshAddRefusesFailsTheRunAndSaysSo) {
    TempDir tmp;
    fs::path pdd = tmp / "pdd";
    fs::create_directories(pdd / "project");
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "project/site.yml") << "- hosts: localhost\n  tasks: []\n";
    const std::string bad = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key at all\n";
    std::ofstream(pdd / "env/ssh_key") << bad;
    CommandResult r = run_command(arunner({"run", pdd.string(), "-p", "site.yml", "-i", "bad"}));
    fs::path art = pdd / "artifacts/bad";
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(read_text(art / "status"), "failed");
    EXPECT_EQ(read_text(art / "rc"), "1");
    std::string stdout_text = read_text(art / "stdout");
    EXPECT_NE(stdout_text.find("Error loading key \"" + (art / "ssh_key_data").string() + "\""),
              std::string::npos)
        << stdout_text;
    EXPECT_NE(stdout_text.find("arunner: the ssh key in env/ssh_key was refused by ssh-add"),
              std::string::npos)
        << stdout_text;
    EXPECT_EQ(stdout_text.find("PLAY"), std::string::npos);  // nothing else ran
    expect_nothing_left(art, bad);
}

}  // namespace
}  // namespace arunner::testing
