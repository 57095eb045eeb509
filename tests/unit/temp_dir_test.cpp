#include "util/temp_dir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/scoped_variable.hpp"
#include "support/temp_dir.hpp"

namespace arunner::util {
namespace {

namespace fs = std::filesystem;

/// TMPDIR set to `value` (nullptr: unset) for the life of the object.
class TmpdirVariable : public testing::ScopedVariable {
  public:
    explicit TmpdirVariable(const char* value) : ScopedVariable("TMPDIR", value) {}
};

TEST(TempDir, TmpdirOrTmp) {
    testing::TempDir dir;
    {
        TmpdirVariable tmpdir(dir.path().c_str());
        EXPECT_EQ(temp_dir().value(), dir.path());
    }
    TmpdirVariable none(nullptr);
    EXPECT_EQ(temp_dir().value(), fs::path("/tmp"));
    TmpdirVariable empty("");
    EXPECT_EQ(temp_dir().value(), fs::path("/tmp"));
}

TEST(TempDir, MakeTempDirMakesAPrivateDirInTmpdirOrSaysWhyNot) {
    testing::TempDir dir;
    {
        TmpdirVariable tmpdir(dir.path().c_str());
        auto made = make_temp_dir("arunner-x-");
        ASSERT_TRUE(made.ok()) << made.error().message;
        EXPECT_EQ(made->parent_path(), dir.path());
        EXPECT_EQ(made->filename().string().rfind("arunner-x-", 0), 0u) << *made;
        struct stat st {};
        ASSERT_EQ(::stat(made->c_str(), &st), 0);
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0700u);
        EXPECT_NE(make_temp_dir("arunner-x-").value(), *made) << "each call a new directory";
    }
    const std::string missing = (dir / "missing").string();
    TmpdirVariable bad(missing.c_str());
    auto refused = make_temp_dir("arunner-x-");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("TMPDIR names " + missing), std::string::npos)
        << refused.error().message;
    auto in_missing = make_temp_dir_in(dir / "missing", "p-");
    ASSERT_FALSE(in_missing.ok());
    EXPECT_NE(in_missing.error().message.find(missing), std::string::npos)
        << in_missing.error().message;
}

TEST(TempDir, AMissingRelativeOrFileTmpdirIsAnErrorThatNamesIt) {
    {
        TmpdirVariable tmpdir("/nonexistent");
        auto dir = temp_dir();
        ASSERT_FALSE(dir.ok());
        EXPECT_EQ(dir.error().message, "TMPDIR names /nonexistent: No such file or directory");
        auto file = unnamed_temp_file();
        ASSERT_FALSE(file.ok());
        EXPECT_EQ(file.error().message, dir.error().message);
    }
    {
        TmpdirVariable tmpdir("relative");
        EXPECT_EQ(temp_dir().error().message, "TMPDIR is 'relative', not an absolute path");
    }
    testing::TempDir dir;
    const fs::path file = dir / "file";
    { std::ofstream(file) << "x"; }
    TmpdirVariable tmpdir(file.c_str());
    EXPECT_EQ(temp_dir().error().message,
              "TMPDIR names " + file.string() + ", which is not a directory");
}

TEST(TempDir, AnUnnamedTempFileLeavesNothingInTheDirectory) {
    testing::TempDir dir;
    TmpdirVariable tmpdir(dir.path().c_str());
    auto file = unnamed_temp_file();
    ASSERT_TRUE(file.ok()) << file.error().message;
    ASSERT_EQ(::write(file->get(), "abc", 3), 3);
    EXPECT_TRUE(fs::is_empty(dir.path()));
    // Reopened through /proc, as the zip readers do.
    std::ifstream again("/proc/self/fd/" + std::to_string(file->get()), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "abc");
}

}  // namespace
}  // namespace arunner::util
