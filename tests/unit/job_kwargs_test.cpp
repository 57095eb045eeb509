#include "stream/job_kwargs.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.hpp"

namespace arunner::stream {
namespace {

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
    EXPECT_EQ(run_keyword("role"), RunKeyword::not_yet);
    EXPECT_EQ(run_keyword("directory_isolation_base_path"), RunKeyword::not_yet);
    EXPECT_EQ(run_keyword("playbooks"), RunKeyword::unknown);
    EXPECT_EQ(run_keyword("runner_mode"), RunKeyword::unknown);  // run_command's, not run()'s
}

TEST(RunKwargs, APrivateDataDirThatDoesNotExistIsNamed) {
    EXPECT_EQ(run_kwargs_error(Json{{"playbook", "x.yml"}}),
              "private_data_dir is required (a temporary one is not supported yet)");
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", "/nonexistent/pdd"}}),
              "private_data_dir path is either invalid or does not exist: /nonexistent/pdd");
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", 3}}), "private_data_dir must be a path");
}

TEST(RunKwargs, KeywordsArunnerCannotHonourAreRefusedByNameUnlessLeftAtTheirDefault) {
    testing::TempDir pdd;
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", pdd.path()}, {"role", "web"}}),
              "the keyword 'role' is not supported by arunner yet; nothing was run");
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", pdd.path()},
                                    {"process_isolation_hide_paths", Json::array({"/etc"})}}),
              "the keyword 'process_isolation_hide_paths' is not supported by arunner yet; "
              "nothing was run");
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

TEST(RunKwargs, ARelativeInventoryIsFoundUnderThePrivateDataDirFirst) {
    testing::TempDir pdd;
    std::filesystem::create_directories(pdd.path() / "inventory");
    std::ofstream(pdd.path() / "inventory" / "hosts") << "localhost\n";
    auto options =
        from_run_kwargs(Json{{"private_data_dir", pdd.path()}, {"inventory", "inventory/hosts"}});
    ASSERT_TRUE(options.ok()) << options.error().message;
    EXPECT_EQ(options->inventory, (pdd.path() / "inventory" / "hosts").string());
    EXPECT_EQ(run_kwargs_error(Json{{"private_data_dir", pdd.path()}, {"inventory", "nohosts"}}),
              "inventory 'nohosts' is not a path under private_data_dir nor from the current "
              "directory (inline inventory text is not supported yet)");
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
