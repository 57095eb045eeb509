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

}  // namespace
}  // namespace arunner::stream
