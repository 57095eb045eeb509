#include "config/runner_settings.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace arunner::config {
namespace {

using Json = nlohmann::ordered_json;

std::string error_for(const Json& settings) {
    auto parsed = parse_runner_settings(settings, "env/settings");
    return parsed.ok() ? std::string() : parsed.error().message;
}

// 1e10 s, 1e300 s and infinity used to overflow the conversion to a clock duration and end the
// job at once as `timeout`; NaN compared false everywhere. Each is refused, naming the key.
TEST(RunnerSettings, TimeoutsOutOfRangeAreRefusedNamingTheKey) {
    const double inf = std::numeric_limits<double>::infinity();
    for (const char* key : {"job_timeout", "idle_timeout", "pexpect_timeout"}) {
        for (const Json& value : {Json(1e10), Json(1e300), Json(inf), Json("1e10"), Json("inf"),
                                  Json("nan"), Json(-1), Json(-1e300)}) {
            std::string message = error_for(Json{{key, value}});
            EXPECT_NE(message.find(std::string("env/settings: ") + key), std::string::npos)
                << key << "=" << value.dump() << ": " << message;
        }
    }
    EXPECT_NE(error_for(Json{{"job_timeout", 1e10}}).find("at most 315360000 seconds"),
              std::string::npos);
}

TEST(RunnerSettings, TimeoutsInRangeAreKept) {
    auto parsed = parse_runner_settings(
        Json{{"job_timeout", 315360000}, {"idle_timeout", "2.5"}, {"pexpect_timeout", 0.2}}, "x");
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->job_timeout, 315360000.0);
    EXPECT_EQ(parsed->idle_timeout, 2.5);
    EXPECT_EQ(parsed->pexpect_timeout, 0.2);
}

}  // namespace
}  // namespace arunner::config
