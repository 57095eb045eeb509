#include "stream/job_kwargs.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace arunner::stream
