#include "config/child_environment.hpp"

#include <gtest/gtest.h>

namespace arunner::config {
namespace {

EnvironmentInputs basic_inputs() {
    EnvironmentInputs in;
    in.base.set("PATH", "/usr/bin:/bin");
    in.base.set("HOME", "/root");
    in.base.set("LANG", "C.UTF-8");
    in.callback_dir = "/cb";
    in.artifact_dir = "/pdd/artifacts/1";
    in.fact_cache_dir = "/pdd/artifacts/1/fact_cache";
    return in;
}

std::vector<std::string> names(const util::Environment& env) {
    std::vector<std::string> out;
    for (const auto& entry : env.entries()) {
        out.push_back(entry.first);
    }
    return out;
}

TEST(ChildEnvironment, OrderAndValuesMatchTheRecordedWorkerStream) {
    util::Environment env = build_child_environment(basic_inputs());
    EXPECT_EQ(names(env),
              (std::vector<std::string>{"PATH", "HOME", "LANG", "ANSIBLE_CALLBACK_PLUGINS",
                                        "ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_RETRY_FILES_ENABLED",
                                        "ANSIBLE_HOST_KEY_CHECKING", "AWX_ISOLATED_DATA_DIR",
                                        "ANSIBLE_CACHE_PLUGIN", "ANSIBLE_CACHE_PLUGIN_CONNECTION",
                                        "RUNNER_OMIT_EVENTS", "RUNNER_ONLY_FAILED_EVENTS"}));
    EXPECT_EQ(env.get("ANSIBLE_CALLBACK_PLUGINS"), "/cb");
    EXPECT_EQ(env.get("ANSIBLE_STDOUT_CALLBACK"), "awx_display");
    EXPECT_EQ(env.get("ANSIBLE_RETRY_FILES_ENABLED"), "False");
    EXPECT_EQ(env.get("ANSIBLE_HOST_KEY_CHECKING"), "False");
    EXPECT_EQ(env.get("AWX_ISOLATED_DATA_DIR"), "/pdd/artifacts/1");
    EXPECT_EQ(env.get("ANSIBLE_CACHE_PLUGIN"), "jsonfile");
    EXPECT_EQ(env.get("ANSIBLE_CACHE_PLUGIN_CONNECTION"), "/pdd/artifacts/1/fact_cache");
    EXPECT_EQ(env.get("RUNNER_OMIT_EVENTS"), "False");
    EXPECT_FALSE(env.contains("ORIGINAL_STDOUT_CALLBACK"));
}

TEST(ChildEnvironment, EnvvarsFileWinsOverOptionAndKeepsFirstPosition) {
    EnvironmentInputs in = basic_inputs();
    in.envvars_option = {{"FOO", "option"}, {"BAR", "b"}};
    in.envvars_file = {{"FOO", "file"}, {"HOME", "/elsewhere"}};
    util::Environment env = build_child_environment(in);
    EXPECT_EQ(env.get("FOO"), "file");
    EXPECT_EQ(env.get("HOME"), "/elsewhere");
    EXPECT_EQ(names(env)[1], "HOME");
    EXPECT_EQ(names(env)[3], "FOO");
}

TEST(ChildEnvironment, UserSettingsArePreservedOrAppended) {
    EnvironmentInputs in = basic_inputs();
    in.base.set("ANSIBLE_STDOUT_CALLBACK", "minimal");
    in.base.set("ANSIBLE_CALLBACK_PLUGINS", "/mine");
    in.base.set("ANSIBLE_HOST_KEY_CHECKING", "True");
    util::Environment env = build_child_environment(in);
    EXPECT_EQ(env.get("ORIGINAL_STDOUT_CALLBACK"), "minimal");
    EXPECT_EQ(env.get("ANSIBLE_STDOUT_CALLBACK"), "awx_display");
    EXPECT_EQ(env.get("ANSIBLE_CALLBACK_PLUGINS"), "/mine:/cb");
    EXPECT_EQ(env.get("ANSIBLE_HOST_KEY_CHECKING"), "True");
}

TEST(ChildEnvironment, AwxLibDirectoryReplacesTheCallbackDir) {
    EnvironmentInputs in = basic_inputs();
    in.envvars_file = {{"AWX_LIB_DIRECTORY", "/lib/cb"}};
    EXPECT_EQ(build_child_environment(in).get("ANSIBLE_CALLBACK_PLUGINS"), "/lib/cb");
}

TEST(ChildEnvironment, AdHocSetsLoadCallbackPluginsAndCommandId) {
    EnvironmentInputs in = basic_inputs();
    in.ad_hoc = true;
    util::Environment env = build_child_environment(in);
    EXPECT_EQ(env.get("ANSIBLE_LOAD_CALLBACK_PLUGINS"), "1");
    EXPECT_EQ(env.get("AD_HOC_COMMAND_ID"), "1");
    in.base.set("AD_HOC_COMMAND_ID", "42");
    EXPECT_EQ(build_child_environment(in).get("AD_HOC_COMMAND_ID"), "42");
}

TEST(ChildEnvironment, RolesPathAndEventFlags) {
    EnvironmentInputs in = basic_inputs();
    in.roles_path = "/r1:/r2";
    in.omit_event_data = true;
    in.only_failed_event_data = true;
    util::Environment env = build_child_environment(in);
    EXPECT_EQ(env.get("ANSIBLE_ROLES_PATH"), "/r1:/r2");
    EXPECT_EQ(env.get("RUNNER_OMIT_EVENTS"), "True");
    EXPECT_EQ(env.get("RUNNER_ONLY_FAILED_EVENTS"), "True");
}

TEST(ChildEnvironment, NeverCarriesTheFrameSecretOrItsFd) {
    // The secret is handed over at spawn or create time; a value from the runner's environment
    // or env/envvars must neither be recorded nor reach the plugin.
    for (bool containerized : {false, true}) {
        EnvironmentInputs in = basic_inputs();
        in.containerized = containerized;
        in.base.set("ARUNNER_FRAME_FD", "0");
        in.envvars_option = {{"ARUNNER_FRAME_SECRET", "00000000000000000000000000000000"}};
        in.envvars_file = {{"ARUNNER_FRAME_FD", "1"}};
        util::Environment env = build_child_environment(in);
        EXPECT_FALSE(env.contains("ARUNNER_FRAME_FD"));
        EXPECT_FALSE(env.contains("ARUNNER_FRAME_SECRET"));
    }
}

}  // namespace
}  // namespace arunner::config
