// The same private data dirs through `arunner run` and Debian's `ansible-runner run`: status, rc,
// the stdout text byte for byte, the command artifact, the artifact files and the number of job
// events must agree. (compat_events_test.cpp compares the events themselves.)

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "support/command.hpp"
#include "support/fixture.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

const char* kAnsibleRunner = "/usr/bin/ansible-runner";

struct RunArtifacts {
    int exit_code = -1;
    std::string status, rc, stdout_text;
    nlohmann::json command;
    std::set<std::string> files;
    size_t event_count = 0;
};

RunArtifacts run_and_collect(const std::vector<std::string>& argv, const fs::path& pdd,
                             const fs::path& keep_as) {
    RunArtifacts a;
    CommandResult r = run_command(argv);
    a.exit_code = r.exit_code;
    fs::path art = pdd / "artifacts" / "same";
    a.status = read_text(art / "status");
    a.rc = read_text(art / "rc");
    a.stdout_text = read_text(art / "stdout");
    a.command = nlohmann::json::parse(read_text(art / "command"), nullptr, false);
    for (const auto& entry : fs::directory_iterator(art)) {
        a.files.insert(fs::relative(entry.path(), art).string());
    }
    a.event_count = static_cast<size_t>(
        std::distance(fs::directory_iterator(art / "job_events"), fs::directory_iterator()));
    fs::rename(art, keep_as);  // the other runner gets the same PDD and ident
    return a;
}

void expect_same_run(const std::string& fixture, std::vector<std::string> args) {
    TempDir tmp;
    fs::path pdd = copy_fixture(fixture, tmp);
    std::vector<std::string> ours = {ARUNNER_BINARY, "run", pdd.string()};
    std::vector<std::string> theirs = {kAnsibleRunner, "run", pdd.string()};
    args.insert(args.end(), {"-i", "same"});
    ours.insert(ours.end(), args.begin(), args.end());
    theirs.insert(theirs.end(), args.begin(), args.end());
    RunArtifacts a = run_and_collect(ours, pdd, tmp / "arunner-art");
    RunArtifacts r = run_and_collect(theirs, pdd, tmp / "ansible-runner-art");

    EXPECT_EQ(a.exit_code, r.exit_code);
    EXPECT_EQ(a.status, r.status);
    EXPECT_EQ(a.rc, r.rc);
    EXPECT_EQ(a.stdout_text, r.stdout_text);
    EXPECT_EQ(a.files, r.files);
    EXPECT_EQ(a.event_count, r.event_count);
    ASSERT_TRUE(a.command.is_object());
    ASSERT_TRUE(r.command.is_object());
    EXPECT_EQ(a.command["command"], r.command["command"]);
    EXPECT_EQ(a.command["cwd"], r.command["cwd"]);
    // The environments agree but for where each runner keeps its callback plugin.
    nlohmann::json ours_env = a.command["env"];
    nlohmann::json their_env = r.command["env"];
    ours_env.erase("ANSIBLE_CALLBACK_PLUGINS");
    their_env.erase("ANSIBLE_CALLBACK_PLUGINS");
    EXPECT_EQ(ours_env, their_env);
    std::vector<std::string> our_keys, their_keys;
    for (auto& [k, v] : a.command["env"].items())
        our_keys.push_back(k);
    for (auto& [k, v] : r.command["env"].items())
        their_keys.push_back(k);
    EXPECT_EQ(our_keys.size(), their_keys.size());
}

TEST(CompatRun, PassingPlay) {
    expect_same_run("hello", {"-p", "site.yml"});
}

TEST(CompatRun, FailingPlay) {
    expect_same_run("failing", {"-p", "site.yml"});
}

TEST(CompatRun, MissingPlaybook) {
    expect_same_run("hello", {"-p", "missing.yml"});
}

TEST(CompatRun, VerbosityLimitAndForks) {
    expect_same_run("hello", {"-p", "site.yml", "-v", "--limit", "localhost", "--forks", "2"});
}

}  // namespace
}  // namespace arunner::testing
