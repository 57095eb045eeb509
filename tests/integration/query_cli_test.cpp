// `arunner command`, `doc`, `inventory`, `config` and `roles`: the real binary with real
// ansible-core; what each prints, its exit code, and its messages for bad input.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

TEST(CommandCli, EchoesTheOutputAndExitsWithTheRc) {
    TempDir tmp;
    CommandResult r =
        run_command(arunner({"command", "--private-data-dir", (tmp / "pdd").string(), "--ident",
                             "one", "--", "sh", "-c", "echo hello; exit 3"}));
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.out.find("hello"), std::string::npos) << r.out;
    EXPECT_EQ(read_text(tmp / "pdd/artifacts/one/rc"), "3");
    EXPECT_NE(read_text(tmp / "pdd/artifacts/one/stdout").find("hello"), std::string::npos);
}

TEST(CommandCli, FlagsAfterTheExecutableAreTheCommands) {
    CommandResult r =
        run_command(arunner({"command", "--runner-mode", "subprocess", "echo", "-q", "--help"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "-q --help\n");
}

TEST(CommandCli, SubprocessModeFalseAndAMissingExecutable) {
    CommandResult failed =
        run_command(arunner({"command", "--runner-mode", "subprocess", "false"}));
    EXPECT_EQ(failed.exit_code, 1);
    CommandResult missing = run_command(arunner({"command", "no-such-command-arunner"}));
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_NE(missing.out.find("no-such-command-arunner"), std::string::npos) << missing.out;
}

TEST(CommandCli, BadInputIsAUsageError) {
    CommandResult none = run_command(arunner({"command", "--runner-mode", "subprocess"}));
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.err.find("arunner command: error: the following arguments are required: "
                            "EXECUTABLE"),
              std::string::npos)
        << none.err;
    CommandResult mode = run_command(arunner({"command", "--runner-mode", "tty", "ls"}));
    EXPECT_EQ(mode.exit_code, 2);
    EXPECT_NE(mode.err.find("--runner-mode"), std::string::npos) << mode.err;
    CommandResult inventory = run_command(arunner({"command", "--inventory", "x", "ls"}));
    EXPECT_EQ(inventory.exit_code, 2);
    EXPECT_NE(inventory.err.find("argument --inventory: a command runs as given"),
              std::string::npos)
        << inventory.err;
    CommandResult cwd = run_command(arunner({"command", "--host-cwd", "/nonexistent/x", "ls"}));
    EXPECT_EQ(cwd.exit_code, 1);
    EXPECT_NE(cwd.err.find("host_cwd"), std::string::npos) << cwd.err;
}

TEST(CommandCli, TimeoutEndsTheCommandWith254) {
    CommandResult r = run_command(arunner({"command", "--timeout", "1", "sleep", "60"}));
    EXPECT_EQ(r.exit_code, 254) << r.err;
}

TEST(DocCli, JsonIsPrintedIndentedByFourSpaces) {
    CommandResult r = run_command(arunner({"doc", "--format", "json", "ansible.builtin.ping"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("{\n    \"ansible.builtin.ping\": {\n        \"doc\"", 0), 0U)
        << r.out.substr(0, 200);
    Json doc = Json::parse(r.out);
    EXPECT_EQ(doc["ansible.builtin.ping"]["doc"]["module"], "ping");
}

TEST(DocCli, TextAndSnippet) {
    CommandResult r = run_command(arunner({"doc", "-s", "ping"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("ping:"), std::string::npos) << r.out;
}

TEST(DocCli, AnUnknownPluginFails) {
    CommandResult r = run_command(arunner({"doc", "--format", "json", "nosuchplugin"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("arunner doc: no documentation found for nosuchplugin"), std::string::npos)
        << r.err;
    CommandResult text = run_command(arunner({"doc", "nosuchplugin"}));
    EXPECT_EQ(text.exit_code, 1);
    EXPECT_NE(text.err.find("nosuchplugin was not found"), std::string::npos) << text.err;
}

TEST(DocCli, ListAndBadInput) {
    CommandResult list =
        run_command(arunner({"doc", "--list", "-t", "callback", "--format", "json"}));
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_TRUE(Json::parse(list.out).contains("ansible.builtin.default"));
    CommandResult names = run_command(arunner({"doc", "--list", "ping"}));
    EXPECT_EQ(names.exit_code, 2);
    CommandResult none = run_command(arunner({"doc"}));
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.err.find("the following arguments are required: NAMES"), std::string::npos);
    CommandResult format = run_command(arunner({"doc", "--format", "yaml", "ping"}));
    EXPECT_EQ(format.exit_code, 2);
}

TEST(DocCli, AMissingAnsibleDocIsNamed) {
    CommandResult r = run_command(arunner({"doc", "ping"}), {{"PATH", "/nonexistent"}});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "arunner doc: ansible-doc command not found\n");
}

TEST(InventoryCli, ListHostAndGraph) {
    TempDir tmp;
    fs::path pdd = copy_fixture("queries", tmp);
    const std::string inventory = (pdd / "inventory/hosts").string();
    CommandResult list = run_command(arunner({"inventory", "--list", "-i", inventory, "--format",
                                              "json", "--private-data-dir", pdd.string()}));
    ASSERT_EQ(list.exit_code, 0) << list.err;
    Json groups = Json::parse(list.out);
    EXPECT_EQ(groups["web"]["hosts"], (std::vector<std::string>{"web1", "web2"}));
    CommandResult host = run_command(arunner({"inventory", "--host", "web2", "-i", inventory}));
    ASSERT_EQ(host.exit_code, 0) << host.err;
    EXPECT_EQ(Json::parse(host.out), Json({{"http_port", 8081}}));
    CommandResult graph =
        run_command(arunner({"inventory", "--graph", "-i", inventory, "--format", "json"}));
    ASSERT_EQ(graph.exit_code, 0) << graph.err;
    EXPECT_NE(graph.out.find("@web:"), std::string::npos) << graph.out;
    CommandResult yaml =
        run_command(arunner({"inventory", "--host", "db1", "-i", inventory, "--format", "yaml"}));
    ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
    EXPECT_EQ(yaml.out, "db_engine: postgres\n");
}

TEST(InventoryCli, BadInputAndAnUnknownHost) {
    CommandResult none = run_command(arunner({"inventory", "-i", "localhost,"}));
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.err.find("one of the arguments --list --host --graph is required"),
              std::string::npos)
        << none.err;
    CommandResult graph =
        run_command(arunner({"inventory", "--graph", "--format", "yaml", "-i", "localhost,"}));
    EXPECT_EQ(graph.exit_code, 2);
    EXPECT_NE(graph.err.find("'graph' action supports only 'json' response format"),
              std::string::npos)
        << graph.err;
    CommandResult host =
        run_command(arunner({"inventory", "--host", "nohost", "-i", "localhost,"}));
    EXPECT_NE(host.exit_code, 0);
    EXPECT_NE(host.exit_code, 2);  // ansible-inventory's own rc, not a usage error of ours
    EXPECT_NE(host.err.find("ERROR!"), std::string::npos) << host.err;
}

TEST(ConfigCli, DumpAndABadAction) {
    CommandResult dump = run_command(arunner({"config", "dump"}));
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_NE(dump.out.find("DEFAULT_FORKS"), std::string::npos);
    CommandResult bad = run_command(arunner({"config", "show"}));
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("Invalid action show, valid value is one of either list, dump, view"),
              std::string::npos)
        << bad.err;
    CommandResult changed = run_command(arunner({"config", "list", "--only-changed"}));
    EXPECT_EQ(changed.exit_code, 2);
    EXPECT_NE(changed.err.find("only_changed is applicable for action 'dump'"), std::string::npos);
}

TEST(RolesCli, ListArgspecAndAnUnknownRole) {
    TempDir tmp;
    fs::path pdd = copy_fixture("queries", tmp);
    const std::string project = (pdd / "project").string();
    CommandResult list = run_command(arunner({"roles", "--playbook-dir", project}));
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_EQ(Json::parse(list.out)["greeter"]["entry_points"]["main"], "Greets someone by name");
    CommandResult spec =
        run_command(arunner({"roles", "--argspec", "greeter", "--playbook-dir", project}));
    ASSERT_EQ(spec.exit_code, 0) << spec.err;
    EXPECT_EQ(Json::parse(
                  spec.out)["greeter"]["entry_points"]["main"]["options"]["greeting_name"]["type"],
              "str");
    CommandResult unknown =
        run_command(arunner({"roles", "--argspec", "nosuchrole", "--playbook-dir", project}));
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("no role nosuchrole"), std::string::npos) << unknown.err;
}

TEST(QueryCli, TopLevelHelpListsTheNewCommands) {
    CommandResult r = run_command(arunner({"--help"}));
    ASSERT_EQ(r.exit_code, 0);
    for (const char* name : {"  command ", "  doc ", "  inventory ", "  config ", "  roles "}) {
        EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
    }
    for (const char* command : {"command", "doc", "inventory", "config", "roles"}) {
        CommandResult help = run_command(arunner({command, "--help"}));
        EXPECT_EQ(help.exit_code, 0) << command;
        EXPECT_EQ(help.out.rfind(std::string("usage: arunner ") + command, 0), 0U) << help.out;
        EXPECT_NE(help.out.find("--private-data-dir"), std::string::npos) << help.out;
    }
}

}  // namespace
}  // namespace arunner::testing
