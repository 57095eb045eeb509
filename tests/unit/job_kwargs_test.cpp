#include "stream/job_kwargs.hpp"

#include "arunner/kwargs.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string kwargs_error(const Json& kwargs) {
    testing::TempDir pdd;
    auto options = from_kwargs(kwargs, pdd.path());
    return options.ok() ? std::string() : options.error().message;
}

// 4294967297 used to wrap to verbosity 1; a number beyond int is refused, naming the key.
TEST(JobKwargs, IntegersBeyondIntAreRefusedNotWrapped) {
    EXPECT_EQ(kwargs_error(Json{{"verbosity", 4294967297ULL}}),
              "kwargs: verbosity must be an integer in the range of int");
    EXPECT_EQ(kwargs_error(Json{{"rotate_artifacts", -4294967296LL}}),
              "kwargs: rotate_artifacts must be an integer in the range of int");
    EXPECT_EQ(kwargs_error(Json{{"verbosity", 1.5}}), "kwargs: verbosity must be an integer");
    testing::TempDir pdd;
    auto options = from_kwargs(Json{{"verbosity", 3}}, pdd.path());
    ASSERT_TRUE(options.ok());
    EXPECT_EQ(options->verbosity, 3);
}

TEST(JobKwargs, ExtravarsTravelAsAMapping) {
    RunOptions options;
    options.private_data_dir = "/pdd";
    options.ident = "x";
    options.extravars = {{"a", 1}};
    Json kwargs = to_kwargs(options);
    EXPECT_EQ(kwargs["extravars"], (Json{{"a", 1}}));
    testing::TempDir pdd;
    auto back = from_kwargs(kwargs, pdd.path());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->extravars, (Json{{"a", 1}}));
}

// ansible-runner's run(container_auth_data=...) travels to a remote worker, which pulls with it.
TEST(JobKwargs, ContainerAuthDataTravelsAndIsChecked) {
    RunOptions options;
    options.private_data_dir = "/pdd";
    options.ident = "x";
    options.container_auth_data = ContainerAuthData{"quay.io", "robot", "s3cret", false};
    Json kwargs = to_kwargs(options);
    EXPECT_EQ(kwargs["container_auth_data"], (Json{{"host", "quay.io"},
                                                   {"username", "robot"},
                                                   {"password", "s3cret"},
                                                   {"verify_ssl", false}}));
    testing::TempDir pdd;
    auto back = from_kwargs(kwargs, pdd.path());
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_TRUE(back->container_auth_data);
    EXPECT_EQ(back->container_auth_data->password, "s3cret");
    EXPECT_FALSE(back->container_auth_data->verify_ssl);

    std::string message = kwargs_error(Json{
        {"container_auth_data", {{"host", "quay.io"}, {"username", "robot"}, {"password", 5}}}});
    EXPECT_EQ(message, "kwargs: container_auth_data needs a non-empty string 'password'");
    EXPECT_NE(kwargs_error(Json{{"container_auth_data", "robot:s3cret"}}).find("must be a mapping"),
              std::string::npos);
    // Without the key nothing is sent.
    options.container_auth_data.reset();
    EXPECT_FALSE(to_kwargs(options).contains("container_auth_data"));
}

// run(passwords=...) travels to the worker, which answers the prompts; order is kept.
TEST(JobKwargs, PasswordsTravelInOrderAndAreChecked) {
    RunOptions options;
    options.private_data_dir = "/pdd";
    options.ident = "x";
    options.passwords = {{"Vault password:", "v"}, {"BECOME password:", "b"}};
    Json kwargs = to_kwargs(options);
    EXPECT_EQ(kwargs["passwords"].dump(), R"({"Vault password:":"v","BECOME password:":"b"})");
    testing::TempDir pdd;
    auto back = from_kwargs(kwargs, pdd.path());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->passwords, options.passwords);
    EXPECT_EQ(kwargs_error(Json{{"passwords", {{"p:", nullptr}}}}),
              "kwargs: passwords: the answer for 'p:' must be a string, not null");
    EXPECT_EQ(kwargs_error(Json{{"passwords", "p"}}),
              "kwargs: passwords must be a mapping of prompt pattern to answer");
    options.passwords.clear();
    EXPECT_FALSE(to_kwargs(options).contains("passwords"));
}

// ansible-runner's run(ssh_key=...) travels as the kwarg; the worker loads it (docs/ssh-keys.md).
TEST(JobKwargs, SshKeyTravelsAsTheKwarg) {
    RunOptions options;
    options.private_data_dir = "/pdd";
    options.ident = "x";
    EXPECT_FALSE(to_kwargs(options).contains("ssh_key"));
    options.ssh_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n";
    Json kwargs = to_kwargs(options);
    EXPECT_EQ(kwargs["ssh_key"], *options.ssh_key);
    testing::TempDir pdd;
    auto back = from_kwargs(kwargs, pdd.path());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->ssh_key, options.ssh_key);
    EXPECT_TRUE(std::filesystem::is_empty(pdd.path()));  // never written to a file
    EXPECT_EQ(kwargs_error(Json{{"ssh_key", Json::array()}}), "kwargs: ssh_key must be a string");
}

std::string run_kwargs_error(const Json& kwargs) {
    auto options = from_run_kwargs(kwargs);
    return options.ok() ? std::string() : options.error().message;
}

// ansible-runner's run() keywords: its RunnerConfig/BaseConfig arguments, the ones init_runner
// and dump_artifacts pop, and nothing else.
TEST(RunKwargs, EveryKeywordOfAnsibleRunnersRunIsKnownAndNothingElse) {
    EXPECT_EQ(run_keyword("playbook"), RunKeyword::option);
    EXPECT_EQ(run_keyword("container_auth_data"), RunKeyword::option);
    EXPECT_EQ(run_keyword("event_handler"), RunKeyword::caller);
    EXPECT_EQ(run_keyword("_input"), RunKeyword::caller);
    EXPECT_EQ(run_keyword("role"), RunKeyword::option);
    EXPECT_EQ(run_keyword("host_cwd"), RunKeyword::not_yet);
    EXPECT_EQ(run_keyword("directory_isolation_base_path"), RunKeyword::option);
    EXPECT_EQ(run_keyword("process_isolation_ro_paths"), RunKeyword::option);
    EXPECT_EQ(run_keyword("playbooks"), RunKeyword::unknown);
    EXPECT_EQ(run_keyword("runner_mode"), RunKeyword::unknown);  // run_command's, not run()'s
}

TEST(RunKwargs, APrivateDataDirThatDoesNotExistIsNamed) {
    auto temporary = from_run_kwargs(Json{{"playbook", "x.yml"}});
    ASSERT_TRUE(temporary.ok()) << temporary.error().message;
    EXPECT_TRUE(temporary->private_data_dir.empty()) << "none given: the run makes a temporary one";
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", "/nonexistent/pdd"}}),
              "private_data_dir path is either invalid or does not exist: /nonexistent/pdd");
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", 3}}), "private_data_dir must be a path");
}

TEST(RunKwargs, KeywordsArunnerCannotHonourAreRefusedByNameUnlessLeftAtTheirDefault) {
    testing::TempDir pdd;
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", pdd.path()}, {"host_cwd", "/srv"}}),
              "the keyword 'host_cwd' is not supported by arunner yet; nothing was run");
    EXPECT_EQ(run_kwargs_error(
                  Json{{"private_data_dir", pdd.path()}, {"process_isolation_hide_paths", 3}}),
              "kwargs: process_isolation_hide_paths must be a path or a list of paths");
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", pdd.path()},
                                    {"role_skip_facts", false},
                                    {"directory_isolation_base_path", nullptr}}),
              "");
    EXPECT_EQ(
        run_kwargs_error(Json{{"private_data_dir", pdd.path()}, {"fact_cache_type", "redis"}}),
        "fact_cache_type \"redis\" is not supported: arunner keeps facts only in the "
        "jsonfile cache");
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", pdd.path()}, {"nope", 1}}),
              "'nope' is not a keyword argument of ansible-runner's run()");
}

TEST(RunKwargs, TheSandboxsPathsAndDirectoryIsolationRoundTrip) {
    testing::TempDir pdd;
    auto options = from_run_kwargs(Json{{"private_data_dir", pdd.path()},
                                        {"process_isolation", true},
                                        {"process_isolation_executable", "bwrap"},
                                        {"process_isolation_path", "/var/tmp"},
                                        {"process_isolation_hide_paths", "/etc/shadow"},
                                        {"process_isolation_show_paths", {"/srv/a", "/srv/b"}},
                                        {"process_isolation_ro_paths", {"/data"}},
                                        {"directory_isolation_base_path", "/scratch"}});
    ASSERT_TRUE(options.ok()) << options.error().message;
    EXPECT_EQ(options->process_isolation_path, fs::path("/var/tmp"));
    EXPECT_EQ(options->process_isolation_hide_paths, std::vector<std::string>{"/etc/shadow"});
    EXPECT_EQ(options->process_isolation_show_paths,
              (std::vector<std::string>{"/srv/a", "/srv/b"}));
    EXPECT_EQ(options->process_isolation_ro_paths, std::vector<std::string>{"/data"});
    EXPECT_EQ(options->directory_isolation_base_path, fs::path("/scratch"));
    Json sent = to_kwargs(*options);
    EXPECT_EQ(sent["process_isolation_path"], "/var/tmp");
    EXPECT_EQ(sent["process_isolation_hide_paths"], Json::array({"/etc/shadow"}));
    EXPECT_EQ(sent["process_isolation_show_paths"], Json::array({"/srv/a", "/srv/b"}));
    EXPECT_EQ(sent["process_isolation_ro_paths"], Json::array({"/data"}));
    EXPECT_EQ(sent["directory_isolation_base_path"], "/scratch");
    auto back = from_kwargs(sent, pdd.path());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->process_isolation_show_paths, options->process_isolation_show_paths);
    EXPECT_EQ(back->directory_isolation_base_path, options->directory_isolation_base_path);
    RunOptions plain;
    plain.private_data_dir = pdd.path();
    plain.playbook = "x.yml";
    Json none = to_kwargs(plain);
    EXPECT_TRUE(none["process_isolation_path"].is_null());
    EXPECT_TRUE(none["process_isolation_hide_paths"].is_null());
    EXPECT_TRUE(none["directory_isolation_base_path"].is_null());
}

TEST(RunKwargs, ARelativeInventoryIsFoundUnderThePrivateDataDirFirst) {
    testing::TempDir pdd;
    std::filesystem::create_directories(pdd.path() / "inventory");
    std::ofstream(pdd.path() / "inventory" / "hosts") << "localhost\n";
    auto options =
        from_run_kwargs(Json{{"private_data_dir", pdd.path()}, {"inventory", "inventory/hosts"}});
    ASSERT_TRUE(options.ok()) << options.error().message;
    EXPECT_EQ(options->inventory, (pdd.path() / "inventory" / "hosts").string());
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", pdd.path()}, {"inventory", "hosts"}}), "")
        << "a name under PDD/inventory, as ansible-runner";
    EXPECT_EQ(run_kwargs_error(
                  Json{{"private_data_dir", pdd.path()}, {"inventory", "/no/such/inventory"}}),
              "kwargs: inventory must be an existing path (an absolute path that names nothing)");
}

TEST(RunKwargs, AnInventoryIsAPathTextAMappingOrAList) {
    testing::TempDir pdd;
    std::filesystem::create_directories(pdd.path() / "inventory");
    std::ofstream(pdd.path() / "inventory" / "hosts") << "localhost\n";
    auto text = from_run_kwargs(
        Json{{"private_data_dir", pdd.path()}, {"inventory", "web1 ansible_connection=local"}});
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_EQ(text->inventory_text, "web1 ansible_connection=local");
    EXPECT_FALSE(text->inventory);
    auto mapping = from_run_kwargs(Json{{"private_data_dir", pdd.path()},
                                        {"inventory", {{"all", {{"hosts", {{"h1", nullptr}}}}}}}});
    ASSERT_TRUE(mapping.ok()) << mapping.error().message;
    EXPECT_EQ(mapping->inventory_mapping["all"]["hosts"].size(), 1u);
    auto list = from_run_kwargs(
        Json{{"private_data_dir", pdd.path()}, {"inventory", Json::array({"hosts", "/etc/x"})}});
    ASSERT_TRUE(list.ok()) << list.error().message;
    EXPECT_EQ(list->inventories, (std::vector<std::string>{"hosts", "/etc/x"}));
    EXPECT_EQ(
        run_kwargs_error(Json{{"private_data_dir", pdd.path()}, {"inventory", Json::array({1})}}),
        "kwargs: inventory must be a path, inventory text, a mapping or a list of paths");
}

TEST(RunKwargs, ARoleAndPlaysAreReadAndTravelAsKeywords) {
    testing::TempDir pdd;
    auto role = from_run_kwargs(Json{{"private_data_dir", pdd.path()},
                                     {"role", "web"},
                                     {"role_vars", {{"port", 80}}},
                                     {"hosts", "h1"},
                                     {"role_skip_facts", true}});
    ASSERT_TRUE(role.ok()) << role.error().message;
    EXPECT_EQ(role->role, "web");
    EXPECT_EQ(role->role_hosts, "h1");
    EXPECT_EQ(role->role_vars, (Json{{"port", 80}}));
    EXPECT_TRUE(role->role_skip_facts);
    Json sent = to_kwargs(*role);
    EXPECT_EQ(sent["role"], "web");
    EXPECT_EQ(sent["hosts"], "h1");
    EXPECT_EQ(sent["role_vars"], (Json{{"port", 80}}));
    EXPECT_EQ(sent["role_skip_facts"], true);
    EXPECT_TRUE(sent["playbook"].is_null());

    auto plays = from_run_kwargs(Json{{"private_data_dir", pdd.path()},
                                      {"playbook", {{"hosts", "all"}, {"tasks", Json::array()}}}});
    ASSERT_TRUE(plays.ok()) << plays.error().message;
    EXPECT_EQ(plays->plays["hosts"], "all");
    EXPECT_FALSE(plays->playbook);
    EXPECT_FALSE(std::filesystem::exists(pdd.path() / "project"))
        << "nothing is written until the run";
    EXPECT_EQ(to_kwargs(*plays)["playbook"]["hosts"], "all") << "plays travel as plays";
}

TEST(RunKwargs, RunnerConfigKeywordsBecomeSettingsUnderTheSettingsKeyword) {
    testing::TempDir pdd;
    auto options = from_run_kwargs(Json{{"private_data_dir", pdd.path()},
                                        {"suppress_output_file", true},
                                        {"fact_cache", "facts"},
                                        {"settings", {{"fact_cache", "mine"}}},
                                        {"container_workdir", "/work"}});
    ASSERT_TRUE(options.ok()) << options.error().message;
    EXPECT_EQ(options->settings, (Json{{"fact_cache", "mine"}, {"suppress_output_file", true}}));
    EXPECT_EQ(options->container_workdir, "/work");
}

}  // namespace
}  // namespace arunner::stream
