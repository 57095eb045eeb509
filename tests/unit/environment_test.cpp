// src/util/environment.cpp: the child's environment keeps Python dict order, because
// ART/command and the `starting` status list it in that order.

#include "util/environment.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <string>
#include <vector>

namespace arunner::util {
namespace {

using Entries = std::vector<Environment::Entry>;

TEST(Environment, NewNamesGoLastAndReplacedValuesKeepTheirPlace) {
    Environment env;
    env.set("B", "1");
    env.set("A", "2");
    env.set("C", "3");
    env.set("B", "changed");
    EXPECT_EQ(env.entries(), (Entries{{"B", "changed"}, {"A", "2"}, {"C", "3"}}));
}

TEST(Environment, SetDefaultDoesNotOverride) {
    Environment env;
    env.set("ANSIBLE_HOST_KEY_CHECKING", "True");
    env.set_default("ANSIBLE_HOST_KEY_CHECKING", "False");
    env.set_default("NEW", "x");
    EXPECT_EQ(env.get("ANSIBLE_HOST_KEY_CHECKING"), "True");
    EXPECT_EQ(env.get("NEW"), "x");
}

TEST(Environment, EraseRemovesTheNameAndKeepsTheOrderOfTheRest) {
    Environment env;
    env.set("A", "1");
    env.set("SECRET", "s");
    env.set("B", "2");
    env.erase("SECRET");
    env.erase("MISSING");
    EXPECT_FALSE(env.contains("SECRET"));
    EXPECT_EQ(env.get("SECRET"), std::nullopt);
    EXPECT_EQ(env.entries(), (Entries{{"A", "1"}, {"B", "2"}}));
}

TEST(Environment, EnvpIsNameEqualsValue) {
    Environment env;
    env.set("A", "x=y");
    env.set("EMPTY", "");
    EXPECT_EQ(env.to_envp(), (std::vector<std::string>{"A=x=y", "EMPTY="}));
}

TEST(Environment, FromCurrentProcessSeesThisProcessVariables) {
    ASSERT_EQ(::setenv("ARUNNER_ENVIRONMENT_TEST", "a=b c", 1), 0);
    Environment env = Environment::from_current_process();
    ::unsetenv("ARUNNER_ENVIRONMENT_TEST");
    EXPECT_EQ(env.get("ARUNNER_ENVIRONMENT_TEST"), "a=b c");
}

TEST(Environment, SecretLookingNames) {
    for (const char* name : {"AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "db_password", "PASSWD",
                             "VAULT_CREDENTIALS", "X_AUTH", "api_key", "SSH_AUTH_SOCK"}) {
        EXPECT_TRUE(looks_secret(name)) << name;
    }
    for (const char* name : {"PATH", "HOME", "ANSIBLE_FORCE_COLOR", "RUNNER_OMIT_EVENTS"}) {
        EXPECT_FALSE(looks_secret(name)) << name;
    }
}

TEST(Environment, PythonPathWithADirFirst) {
    EXPECT_EQ(python_path_with("/boot", ""), "/boot");
    EXPECT_EQ(python_path_with("/boot", "/a:/b"), "/boot:/a:/b");
}

}  // namespace
}  // namespace arunner::util
