// The helper queries with real ansible-core: get_plugin_docs, get_plugin_list, get_inventory
// (list, host, graph, yaml), get_ansible_config, get_role_list and get_role_argspec on
// tests/fixtures/queries, and their errors (bad input, a missing executable).

#include <gtest/gtest.h>
#include <stdlib.h>

#include "arunner/commands.hpp"
#include "support/command.hpp"
#include "support/fixture.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

RunOptions quiet_query(const fs::path& pdd = {}) {
    RunOptions options = query_options();
    options.private_data_dir = pdd;
    options.console_fd = -1;
    return options;
}

TEST(Queries, PluginDocsOfPing) {
    PluginDocsQuery query;
    query.plugin_names = {"ansible.builtin.ping"};
    query.response_format = "json";
    auto result = get_plugin_docs(query, quiet_query());
    ASSERT_TRUE(result.ok()) << result.error().message;
    ASSERT_TRUE(result->response.is_object()) << result->response.dump();
    EXPECT_EQ(result->response["ansible.builtin.ping"]["doc"]["short_description"],
              "Try to connect to host, verify a usable python and return C(pong) on success");
    EXPECT_EQ(result->command.rc, 0);
    EXPECT_EQ(result->command.status, JobStatus::successful);
}

TEST(Queries, PluginDocsAsTextUnlessJsonIsAsked) {
    PluginDocsQuery query;
    query.plugin_names = {"ansible.builtin.ping"};
    query.snippet = true;
    auto result = get_plugin_docs(query, quiet_query());
    ASSERT_TRUE(result.ok()) << result.error().message;
    ASSERT_TRUE(result->response.is_string());
    const std::string text = result->response.get<std::string>();
    EXPECT_EQ(text.rfind("- name: Try to connect to host", 0), 0U) << text;
    EXPECT_NE(text.find("\n  ping:\n"), std::string::npos) << text;
}

TEST(Queries, PluginListHasPing) {
    PluginListQuery query;
    query.response_format = "json";
    auto result = get_plugin_list(query, quiet_query());
    ASSERT_TRUE(result.ok()) << result.error().message;
    ASSERT_TRUE(result->response.is_object());
    EXPECT_TRUE(result->response.contains("ansible.builtin.ping"));
}

TEST(Queries, InventoryListHostGraphAndYaml) {
    TempDir tmp;
    fs::path pdd = copy_fixture("queries", tmp);
    const std::string inventory = (pdd / "inventory/hosts").string();
    InventoryQuery list;
    list.action = "list";
    list.inventories = {inventory};
    list.response_format = "json";
    auto listed = get_inventory(list, quiet_query(pdd));
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    const Json& groups = listed->response;
    EXPECT_EQ(groups["web"]["hosts"], (std::vector<std::string>{"web1", "web2"}));
    EXPECT_EQ(groups["db"]["hosts"], (std::vector<std::string>{"db1"}));
    EXPECT_EQ(groups["prod"]["children"], (std::vector<std::string>{"web", "db"}));
    EXPECT_EQ(groups["_meta"]["hostvars"]["web1"]["http_port"], 8080);

    InventoryQuery host = list;
    host.action = "host";
    host.host = "db1";
    auto one = get_inventory(host, quiet_query(pdd));
    ASSERT_TRUE(one.ok()) << one.error().message;
    EXPECT_EQ(one->response, Json({{"db_engine", "postgres"}}));

    InventoryQuery graph = list;
    graph.action = "graph";
    graph.response_format.reset();
    auto tree = get_inventory(graph, quiet_query(pdd));
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    ASSERT_TRUE(tree->response.is_string());
    const std::string text = tree->response.get<std::string>();
    EXPECT_NE(text.find("@prod:"), std::string::npos) << text;
    EXPECT_NE(text.find("|--web2"), std::string::npos) << text;

    InventoryQuery yaml = host;
    yaml.host = "web1";
    yaml.response_format = "yaml";
    auto as_yaml = get_inventory(yaml, quiet_query(pdd));
    ASSERT_TRUE(as_yaml.ok()) << as_yaml.error().message;
    EXPECT_EQ(as_yaml->response, Json("http_port: 8080\n"));
}

TEST(Queries, AnUnknownHostIsAnsibleInventorysOwnError) {
    InventoryQuery host;
    host.action = "host";
    host.host = "nohost";
    host.inventories = {"localhost,"};
    auto result = get_inventory(host, quiet_query());
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_NE(result->command.rc, 0);
    EXPECT_EQ(result->command.status, JobStatus::failed);
    EXPECT_NE(result->err.find("ERROR!"), std::string::npos) << result->err;
}

TEST(Queries, BadInputIsAnErrorBeforeAnythingRuns) {
    InventoryQuery graph;
    graph.action = "graph";
    graph.response_format = "yaml";
    auto result = get_inventory(graph, quiet_query());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().message, "'graph' action supports only 'json' response format");
    ConfigQuery config;
    config.action = "show";
    auto bad = get_ansible_config(config, quiet_query());
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message,
              "Invalid action show, valid value is one of either list, dump, view");
}

TEST(Queries, AnsibleConfigDumpHasForks) {
    ConfigQuery query;
    query.action = "dump";
    auto result = get_ansible_config(query, quiet_query());
    ASSERT_TRUE(result.ok()) << result.error().message;
    ASSERT_TRUE(result->response.is_string());
    EXPECT_NE(result->response.get<std::string>().find("DEFAULT_FORKS"), std::string::npos);
}

TEST(Queries, RoleListAndArgspecFromAPlaybookDir) {
    TempDir tmp;
    fs::path pdd = copy_fixture("queries", tmp);
    RoleListQuery list;
    list.playbook_dir = (pdd / "project").string();
    auto listed = get_role_list(list, quiet_query(pdd));
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    EXPECT_EQ(listed->response["greeter"]["entry_points"]["main"], "Greets someone by name");

    RoleArgspecQuery argspec;
    argspec.role = "greeter";
    argspec.playbook_dir = (pdd / "project").string();
    auto spec = get_role_argspec(argspec, quiet_query(pdd));
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    const Json& options = spec->response["greeter"]["entry_points"]["main"]["options"];
    EXPECT_EQ(options["greeting_name"]["required"], true);
    EXPECT_EQ(options["greeting_times"]["default"], 1);
}

TEST(Queries, AMissingExecutableIsAnErrorNamingIt) {
    const char* saved = std::getenv("PATH");
    std::string path = saved ? saved : "";
    ::setenv("PATH", "/nonexistent", 1);
    PluginDocsQuery query;
    query.plugin_names = {"ping"};
    auto result = get_plugin_docs(query, quiet_query());
    ::setenv("PATH", path.c_str(), 1);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().message, "ansible-doc command not found");
}

TEST(Queries, TheExecutableRunsByItsFullPathAsInAnsibleRunner) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    RunOptions options = quiet_query(tmp / "pdd");
    options.ident = "cfg";
    ConfigQuery query;
    query.action = "list";
    auto result = get_ansible_config(query, options);
    ASSERT_TRUE(result.ok()) << result.error().message;
    auto command = Json::parse(read_text(tmp / "pdd/artifacts/cfg/command"));
    EXPECT_EQ(command["command"][0].get<std::string>().front(), '/');
    EXPECT_EQ(fs::path(command["command"][0].get<std::string>()).filename(), "ansible-config");
    EXPECT_EQ(command["command"][1], "list");
}

}  // namespace
}  // namespace arunner::testing
