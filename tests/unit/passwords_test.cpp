// Where the answers to prompts come from: the passwords option with env/passwords merged over
// it in ansible-runner's order, answers typed as Python's str() gives them, bad input named.

#include "config/passwords.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;

void write_passwords(const fs::path& pdd, const std::string& text) {
    fs::create_directories(pdd / "env");
    std::ofstream(pdd / "env/passwords") << text;
}

TEST(Passwords, TheFileIsMergedOverTheOptionInPlace) {
    testing::TempDir pdd;
    write_passwords(pdd.path(), "{\"b\": \"file-b\", \"c\": \"file-c\"}");
    auto answers = load_password_answers(pdd.path(), {{"a", "opt-a"}, {"b", "opt-b"}});
    ASSERT_TRUE(answers.ok()) << answers.error().message;
    EXPECT_EQ(*answers, (PasswordAnswers{{"a", "opt-a"}, {"b", "file-b"}, {"c", "file-c"}}));
}

TEST(Passwords, WithoutAFileTheOptionStands) {
    testing::TempDir pdd;
    auto answers = load_password_answers(pdd.path(), {{"a", "1"}});
    ASSERT_TRUE(answers.ok());
    EXPECT_EQ(*answers, (PasswordAnswers{{"a", "1"}}));
}

TEST(Passwords, YamlNumbersBecomeTheirPythonText) {
    testing::TempDir pdd;
    write_passwords(pdd.path(), "'^Vault password:\\s*?$': 1234\n'x': true\n");
    auto answers = load_password_answers(pdd.path(), {});
    ASSERT_TRUE(answers.ok()) << answers.error().message;
    EXPECT_EQ(*answers, (PasswordAnswers{{"^Vault password:\\s*?$", "1234"}, {"x", "True"}}));
}

TEST(Passwords, BadFilesAreErrorsThatNameThemAndNeverShowAnAnswer) {
    testing::TempDir pdd;
    write_passwords(pdd.path(), "[\"not\", \"a mapping\"]");
    auto answers = load_password_answers(pdd.path(), {});
    ASSERT_FALSE(answers.ok());
    EXPECT_NE(answers.error().message.find("env/passwords"), std::string::npos);
    write_passwords(pdd.path(), "{\"p:\": {\"nested\": \"hunter2\"}}");
    answers = load_password_answers(pdd.path(), {});
    ASSERT_FALSE(answers.ok());
    EXPECT_EQ(answers.error().message,
              "env/passwords: the answer for 'p:' must be a string, not object");
}

}  // namespace
}  // namespace arunner::config
