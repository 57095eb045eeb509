// The helper queries' argv and checks against ansible-runner 2.3.1's own: every expected list
// and message below was printed by its DocConfig, InventoryConfig and AnsibleCfgConfig
// (prepare_*_command, with the executable's directory dropped). Also the JSON response rule
// (sanitize_json_response) and run_command's default runner mode.

#include <gtest/gtest.h>

#include "arunner/commands.hpp"

namespace arunner {
namespace {

using Argv = std::vector<std::string>;

Argv ok(const Result<Argv>& result) {
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? result.value() : Argv{};
}

PluginDocsQuery docs_of(std::vector<std::string> names) {
    PluginDocsQuery query;
    query.plugin_names = std::move(names);
    return query;
}

ConfigQuery config_of(std::string action) {
    ConfigQuery query;
    query.action = std::move(action);
    return query;
}

std::string error_of(const Result<Argv>& result) {
    EXPECT_FALSE(result.ok());
    return result.ok() ? std::string() : result.error().message;
}

TEST(QueryCommands, PluginDocs) {
    EXPECT_EQ(ok(plugin_docs_command(docs_of({"ping"}))), (Argv{"ansible-doc", "ping"}));
    PluginDocsQuery all;
    all.plugin_names = {"ping", "copy"};
    all.plugin_type = "module";
    all.response_format = "json";
    all.snippet = true;
    all.playbook_dir = "/pb";
    all.module_path = "/mp";
    EXPECT_EQ(ok(plugin_docs_command(all)),
              (Argv{"ansible-doc", "-j", "-s", "-t", "module", "--playbook-dir", "/pb", "-M", "/mp",
                    "ping", "copy"}));
    PluginDocsQuery human;
    human.plugin_names = {"ping"};
    human.response_format = "human";
    EXPECT_EQ(ok(plugin_docs_command(human)), (Argv{"ansible-doc", "ping"}));
    PluginDocsQuery bad = human;
    bad.response_format = "yaml";
    EXPECT_EQ(error_of(plugin_docs_command(bad)),
              "Invalid response_format yaml, valid value is one of either json, human");
}

TEST(QueryCommands, PluginList) {
    EXPECT_EQ(ok(plugin_list_command({})), (Argv{"ansible-doc", "-l"}));
    PluginListQuery all;
    all.list_files = true;
    all.response_format = "json";
    all.plugin_type = "callback";
    all.playbook_dir = "/pb";
    all.module_path = "/mp";
    EXPECT_EQ(ok(plugin_list_command(all)), (Argv{"ansible-doc", "-F", "-j", "-t", "callback",
                                                  "--playbook-dir", "/pb", "-M", "/mp"}));
    PluginListQuery bad;
    bad.response_format = "xml";
    EXPECT_EQ(error_of(plugin_list_command(bad)),
              "Invalid response_format xml, valid value is one of either json, human");
}

TEST(QueryCommands, Inventory) {
    InventoryQuery list;
    list.action = "list";
    list.inventories = {"/a", "/b"};
    EXPECT_EQ(ok(inventory_command(list)),
              (Argv{"ansible-inventory", "--list", "-i", "/a", "-i", "/b"}));
    InventoryQuery host;
    host.action = "host";
    host.inventories = {"/a"};
    host.host = "web1";
    host.response_format = "yaml";
    EXPECT_EQ(ok(inventory_command(host)),
              (Argv{"ansible-inventory", "--host", "web1", "-i", "/a", "--yaml"}));
    InventoryQuery graph;
    graph.action = "graph";
    graph.inventories = {"/a"};
    graph.response_format = "json";
    EXPECT_EQ(ok(inventory_command(graph)), (Argv{"ansible-inventory", "--graph", "-i", "/a"}));
    InventoryQuery all;
    all.action = "list";
    all.inventories = {"/a"};
    all.response_format = "toml";
    all.playbook_dir = "/pb";
    all.vault_ids = "dev@prompt";
    all.vault_password_file = "/vp";
    all.output_file = "/out";
    all.export_ = true;
    EXPECT_EQ(ok(inventory_command(all)),
              (Argv{"ansible-inventory", "--list", "-i", "/a", "--toml", "--playbook-dir", "/pb",
                    "--vault-id", "dev@prompt", "--vault-password-file", "/vp", "--output", "/out",
                    "--export"}));
}

TEST(QueryCommands, InventoryChecks) {
    InventoryQuery q;
    q.inventories = {"/a"};
    q.action = "show";
    EXPECT_EQ(error_of(inventory_command(q)),
              "Invalid action show, valid value is one of either graph, host, list");
    q.action = "list";
    q.response_format = "ini";
    EXPECT_EQ(error_of(inventory_command(q)),
              "Invalid response_format ini, valid value is one of either json, yaml, toml");
    q.action = "host";
    q.response_format.reset();
    EXPECT_EQ(error_of(inventory_command(q)),
              "Value of host parameter is required when action in 'host'");
    q.action = "graph";
    q.response_format = "yaml";
    EXPECT_EQ(error_of(inventory_command(q)),
              "'graph' action supports only 'json' response format");
}

TEST(QueryCommands, Config) {
    EXPECT_EQ(ok(config_command(config_of("list"))), (Argv{"ansible-config", "list"}));
    ConfigQuery dump;
    dump.action = "dump";
    dump.config_file = "/c.cfg";
    dump.only_changed = true;
    EXPECT_EQ(ok(config_command(dump)),
              (Argv{"ansible-config", "dump", "-c", "/c.cfg", "--only-changed"}));
    ConfigQuery view;
    view.action = "view";
    view.config_file = "/c.cfg";
    EXPECT_EQ(ok(config_command(view)), (Argv{"ansible-config", "view", "-c", "/c.cfg"}));
    EXPECT_EQ(error_of(config_command(config_of("show"))),
              "Invalid action show, valid value is one of either list, dump, view");
    ConfigQuery changed;
    changed.action = "list";
    changed.only_changed = true;
    EXPECT_EQ(error_of(config_command(changed)), "only_changed is applicable for action 'dump'");
}

TEST(QueryCommands, Roles) {
    EXPECT_EQ(ok(role_list_command({})), (Argv{"ansible-doc", "-t", "role", "-l", "-j"}));
    RoleListQuery list;
    list.collection = "ns.coll";
    list.playbook_dir = "/pb";
    EXPECT_EQ(ok(role_list_command(list)),
              (Argv{"ansible-doc", "-t", "role", "-l", "-j", "--playbook-dir", "/pb", "ns.coll"}));
    RoleArgspecQuery argspec;
    argspec.role = "myrole";
    EXPECT_EQ(ok(role_argspec_command(argspec)),
              (Argv{"ansible-doc", "-t", "role", "-j", "myrole"}));
    argspec.collection = "ns.coll";
    argspec.playbook_dir = "/pb";
    EXPECT_EQ(ok(role_argspec_command(argspec)),
              (Argv{"ansible-doc", "-t", "role", "-j", "--playbook-dir", "/pb", "ns.coll.myrole"}));
}

TEST(QueryCommands, EmptyStringsAreNotGivenAsInPython) {
    PluginDocsQuery q;
    q.plugin_names = {"ping"};
    q.response_format = "";
    q.plugin_type = "";
    q.playbook_dir = "";
    EXPECT_EQ(ok(plugin_docs_command(q)), (Argv{"ansible-doc", "ping"}));
}

TEST(QueryCommands, QueryOptionsAreSubprocessMode) {
    EXPECT_EQ(query_options().runner_mode, RunnerMode::subprocess);
}

TEST(QueryResponse, EverythingBeforeTheFirstBraceIsDropped) {
    auto parsed = parse_json_response("[WARNING]: something odd\n{\"ping\": {\"doc\": 1}}\n\n",
                                      {"ansible-doc", "-j"}, 0);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ((*parsed)["ping"]["doc"], 1);
}

TEST(QueryResponse, NotJsonNamesTheCommandAndQuotesTheOutput) {
    std::string out = "no json here " + std::string(300, 'x');
    auto parsed = parse_json_response(out, {"ansible-doc", "-j", "ping"}, 5);
    ASSERT_FALSE(parsed.ok());
    const std::string& message = parsed.error().message;
    EXPECT_NE(message.find("ansible-doc -j ping"), std::string::npos) << message;
    EXPECT_NE(message.find("rc 5"), std::string::npos) << message;
    EXPECT_NE(message.find(out.substr(0, 200) + "\""), std::string::npos) << message;
    EXPECT_EQ(message.find(out.substr(0, 201)), std::string::npos) << message;
    auto broken = parse_json_response("{\"a\": ", {"ansible-doc"}, 0);
    EXPECT_FALSE(broken.ok());
    auto trailing = parse_json_response("{} trailing", {"ansible-doc"}, 0);
    EXPECT_FALSE(trailing.ok());
}

TEST(QueryResponse, OutputNestedBeyondPythonsLimitIsAnErrorNotACrash) {
    // What a tool prints is a job's output: a value 1,000,000 levels deep would overflow the
    // stack of every recursive walker (the CLI's dump, the Python conversion).
    std::string deep = "{\"a\": " + std::string(1000000, '[') + std::string(1000000, ']') + "}";
    auto parsed = parse_json_response(deep, {"ansible-inventory", "--list"}, 0);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("nested more than 1000 levels deep"), std::string::npos)
        << parsed.error().message.substr(0, 300);
    std::string ok = "{\"a\": " + std::string(998, '[') + std::string(998, ']') + "}";
    EXPECT_TRUE(parse_json_response(ok, {"ansible-inventory"}, 0).ok());
}

TEST(QueryResponse, TextUnlessParsedAndNullWhenEmpty) {
    auto text = query_response("ping: ok\n", false, {"ansible-doc"}, 0);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, Json("ping: ok\n"));
    auto empty = query_response("", true, {"ansible-doc"}, 1);
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->is_null());
}

TEST(DefaultCommandMode, SubprocessForInputOrTheNonInteractiveTools) {
    EXPECT_EQ(default_command_mode("ansible-playbook", false), RunnerMode::pexpect);
    EXPECT_EQ(default_command_mode("ansible-playbook", true), RunnerMode::subprocess);
    EXPECT_EQ(default_command_mode("cat", true), RunnerMode::subprocess);
    for (const char* tool : {"ansible-config", "ansible-doc", "ansible-galaxy"}) {
        EXPECT_EQ(default_command_mode(tool, false), RunnerMode::subprocess) << tool;
    }
    // By file name (ansible-runner's os.pathsep split misses a full path).
    EXPECT_EQ(default_command_mode("/usr/bin/ansible-doc", false), RunnerMode::subprocess);
    EXPECT_EQ(default_command_mode("ansible-doc-x", false), RunnerMode::pexpect);
}

}  // namespace
}  // namespace arunner
