// Role runs (`run -r`): the same role through `arunner run` and Debian's `ansible-runner run`,
// the generated play removed afterwards, PDD/roles honoured, a role transmitted to either
// worker, and the bad inputs. Also a private data dir that does not exist yet.

#include <gtest/gtest.h>

#include <set>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/job_events.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const std::string kAnsibleRunner = "/usr/bin/ansible-runner";

std::set<std::string> entries(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        names.insert(fs::relative(entry.path(), dir).string());
    }
    return names;
}

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.insert(entry.path().filename().string());
    }
    return names;
}

/// Each event's name, task and host: what must agree between the two runners.
std::vector<std::string> outline(const std::vector<Json>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        std::string line = e.value("event", "");
        if (e.contains("event_data")) {
            line += "|" + e["event_data"].value("task", "") + "|" +
                    e["event_data"].value("host", "") + "|" + e["event_data"].value("role", "");
        }
        out.push_back(line);
    }
    return out;
}

TEST(RoleRun, MatchesAnsibleRunnersEventsAndArtifactsAndLeavesNoPlaybook) {
    TempDir tmp;
    fs::path pdd = copy_fixture("role", tmp);
    const std::set<std::string> before = entries(pdd / "project");
    const std::vector<std::string> args = {"run",     pdd.string(),  "-r",
                                           "greet",   "--role-vars", "who=world port=8080",
                                           "--hosts", "localhost",   "--role-skip-facts",
                                           "-i",      "same"};
    std::vector<std::string> ours = arunner(args);
    std::vector<std::string> theirs = args;
    theirs.insert(theirs.begin(), kAnsibleRunner);

    CommandResult a = run_command(ours);
    const fs::path art = pdd / "artifacts/same";
    std::string a_stdout = read_text(art / "stdout");
    std::vector<Json> a_events = load_job_events(art);
    std::set<std::string> a_files = names_in(art);
    EXPECT_EQ(entries(pdd / "project"), before) << "the generated playbook must be gone";
    fs::rename(art, tmp / "arunner-art");

    CommandResult r = run_command(theirs);
    std::string r_stdout = read_text(art / "stdout");
    std::vector<Json> r_events = load_job_events(art);
    EXPECT_EQ(entries(pdd / "project"), before) << "ansible-runner removes its playbook too";

    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.exit_code, r.exit_code) << r.err;
    EXPECT_EQ(read_text(tmp / "arunner-art/status"), "successful");
    EXPECT_EQ(read_text(tmp / "arunner-art/status"), read_text(art / "status"));
    EXPECT_EQ(a_stdout, r_stdout);
    EXPECT_NE(a_stdout.find("hello world on port 8080"), std::string::npos) << a_stdout;
    EXPECT_NE(a_stdout.find("\"msg\": \"8081\""), std::string::npos)
        << "8080 was read as a number: " << a_stdout;
    EXPECT_EQ(outline(a_events), outline(r_events));
    EXPECT_EQ(a_files, names_in(art));
    // Both ran the play from a playbook named by a uuid in hex.
    ASSERT_FALSE(a_events.empty());
    fs::path playbook = a_events.front()["event_data"].value("playbook", "");
    EXPECT_EQ(playbook.parent_path(), pdd / "project");
    EXPECT_EQ(playbook.filename().string().size(), 32u) << playbook;
    EXPECT_EQ(
        fs::path(r_events.front()["event_data"].value("playbook", "")).filename().string().size(),
        32u);
    Json command = Json::parse(read_text(tmp / "arunner-art/command"));
    EXPECT_EQ(command["command"][0], "ansible-playbook");
    EXPECT_EQ(command["env"]["ANSIBLE_ROLES_PATH"], (pdd / "roles").string());
}

TEST(RoleRun, ARoleInThePrivateDataDirsRolesIsFound) {
    TempDir tmp;
    fs::path pdd = copy_fixture("role", tmp);
    CommandResult r = run_command(arunner({"run", pdd.string(), "-r", "pddrole", "-i", "p"}));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(read_text(pdd / "artifacts/p/stdout").find("pddrole ran"), std::string::npos);
}

TEST(RoleRun, ARolesPathNamingThePrivateDataDirsRolesIsSetOnceAsAnsibleRunnerSetsIt) {
    TempDir tmp;
    fs::path pdd = copy_fixture("role", tmp);
    const std::vector<std::string> args = {
        "run", pdd.string(), "-r", "pddrole", "--roles-path", (pdd / "roles").string(), "-i", "rp"};
    std::vector<std::string> theirs = args;
    theirs.insert(theirs.begin(), kAnsibleRunner);
    CommandResult a = run_command(arunner(args));
    ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
    Json ours = Json::parse(read_text(pdd / "artifacts/rp/command"));
    fs::remove_all(pdd / "artifacts/rp");
    CommandResult r = run_command(theirs);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    Json reference = Json::parse(read_text(pdd / "artifacts/rp/command"));
    EXPECT_EQ(ours["env"]["ANSIBLE_ROLES_PATH"], (pdd / "roles").string());
    EXPECT_EQ(ours["env"]["ANSIBLE_ROLES_PATH"], reference["env"]["ANSIBLE_ROLES_PATH"]);
}

TEST(RoleRun, AMissingRoleFailsWithAnsiblesMessageAndLeavesNothing) {
    TempDir tmp;
    fs::path pdd = copy_fixture("role", tmp);
    fs::remove_all(pdd / "project");
    CommandResult r = run_command(arunner({"run", pdd.string(), "-r", "nosuch", "-i", "m"}));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(read_text(pdd / "artifacts/m/stdout").find("the role 'nosuch' was not found"),
              std::string::npos)
        << read_text(pdd / "artifacts/m/stdout");
    EXPECT_EQ(read_text(pdd / "artifacts/m/status"), "failed");
    EXPECT_FALSE(fs::exists(pdd / "project")) << "the project dir made for the play is removed";
}

TEST(RoleRun, BadRoleFlagsAreUsageErrorsInArgparsesWords) {
    TempDir tmp;
    fs::path pdd = copy_fixture("role", tmp);
    CommandResult both = run_command(arunner({"run", pdd.string(), "-r", "greet", "-p", "x.yml"}));
    EXPECT_EQ(both.exit_code, 2);
    EXPECT_NE(both.err.find("arunner run: error: argument -p/--playbook: not allowed with "
                            "argument -r/--role\n"),
              std::string::npos)
        << both.err;
    CommandResult vars =
        run_command(arunner({"run", pdd.string(), "-r", "greet", "--role-vars", "a=1 b"}));
    EXPECT_EQ(vars.exit_code, 1);
    EXPECT_NE(vars.err.find("'b' is not KEY=VALUE"), std::string::npos) << vars.err;
    EXPECT_FALSE(fs::exists(pdd / "artifacts"));
}

TEST(RoleRun, ARoleTravelsToEitherWorkerAsKeywords) {
    for (const std::string& worker : {std::string(ARUNNER_BINARY), kAnsibleRunner}) {
        TempDir tmp;
        fs::path pdd = copy_fixture("role", tmp);
        const std::set<std::string> before = entries(pdd);
        fs::path out = tmp / "processed";
        std::string pipeline = "'" + std::string(ARUNNER_BINARY) + "' transmit '" + pdd.string() +
                               "' -r greet --role-vars 'who=remote' --hosts localhost -i t | '" +
                               worker + "' worker | '" + ARUNNER_BINARY + "' process '" +
                               out.string() + "' -i t";
        CommandResult r = run_command({"/bin/sh", "-c", pipeline});
        EXPECT_EQ(r.exit_code, 0) << worker << ": " << r.err;
        EXPECT_EQ(read_text(out / "artifacts/t/status"), "successful") << worker;
        EXPECT_NE(read_text(out / "artifacts/t/stdout").find("hello remote on port 0"),
                  std::string::npos)
            << worker << ": " << read_text(out / "artifacts/t/stdout");
        EXPECT_EQ(entries(pdd), before) << "transmit writes nothing into the sender's directory";
    }
}

TEST(NewPrivateDataDir, IsCreatedAndTheRunGoesOn) {
    TempDir tmp;
    fs::path pdd = tmp / "new" / "pdd";
    CommandResult r = run_command(
        arunner({"run", pdd.string(), "-m", "ping", "--hosts", "localhost", "-i", "n"}));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_text(pdd / "artifacts/n/status"), "successful");
    EXPECT_EQ(fs::status(pdd).permissions() & fs::perms::all, fs::perms::owner_all);
}

}  // namespace
}  // namespace arunner::testing
