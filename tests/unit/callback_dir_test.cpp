#include "config/callback_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/scoped_variable.hpp"
#include "support/temp_dir.hpp"

namespace {

/// Sets ARUNNER_CALLBACK_DIR for a scope, then puts it back as it was.
class CallbackDirVariable : public arunner::testing::ScopedVariable {
  public:
    explicit CallbackDirVariable(const char* value)
        : ScopedVariable("ARUNNER_CALLBACK_DIR", value) {}
};

}  // namespace

TEST(CallbackDir, TheVariableWins) {
    arunner::testing::TempDir dir;
    CallbackDirVariable set(dir.path().c_str());
    EXPECT_EQ(arunner::config::find_callback_dir(), dir.path().string());
}

// Without the variable, the dir found is one that holds the plugin (the build tree's copy next
// to the test binary, or the source tree's).
TEST(CallbackDir, WithoutTheVariableFindsTheDirOfThePlugin) {
    CallbackDirVariable unset(nullptr);
    const std::string found = arunner::config::find_callback_dir();
    ASSERT_FALSE(found.empty());
    EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::path(found) / "awx_display.py"))
        << found;
}
