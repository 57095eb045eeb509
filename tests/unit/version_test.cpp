#include "arunner/version.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

// What `arunner --version` prints and worker-info reports as runner_version: the project's
// version from CMakeLists.txt, as major.minor.patch.
TEST(Version, IsTheProjectsMajorMinorPatch) {
    const std::string version = arunner::version();
    EXPECT_TRUE(std::regex_match(version, std::regex(R"(\d+\.\d+\.\d+)"))) << version;
}
