#include "cli/worker_info.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "arunner/version.hpp"
#include "support/temp_dir.hpp"

namespace {

using arunner::testing::TempDir;

std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Runs `body` with HOME pointing at `home`, then puts HOME back.
template <typename Body>
void with_home(const std::filesystem::path& home, Body body) {
    const char* saved = std::getenv("HOME");
    const std::string old = saved != nullptr ? saved : "";
    ::setenv("HOME", home.c_str(), 1);
    body();
    if (saved != nullptr) {
        ::setenv("HOME", old.c_str(), 1);
    } else {
        ::unsetenv("HOME");
    }
}

}  // namespace

// ansible-runner's `worker --worker-info` line: sorted keys, flow style, the uuid it keeps in
// ~/.ansible_runner_uuid (made 0600 on first use, then reused).
TEST(WorkerInfo, ReportsSortedKeysAndKeepsItsUuidInHome) {
    TempDir home;
    std::string first;
    std::string second;
    with_home(home.path(), [&] {
        first = arunner::cli::worker_info_line();
        second = arunner::cli::worker_info_line();
    });
    const auto uuid_file = home.path() / ".ansible_runner_uuid";
    ASSERT_TRUE(std::filesystem::exists(uuid_file)) << first;
    const std::string uuid = read_all(uuid_file);
    EXPECT_EQ(uuid.size(), 36u) << uuid;
    struct stat st {};
    ASSERT_EQ(::stat(uuid_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    const std::string expected_prefix =
        "{cpu_count: " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + ", errors: [], ";
    EXPECT_EQ(first.rfind(expected_prefix, 0), 0u) << first;
    EXPECT_NE(first.find(", mem_in_bytes: "), std::string::npos) << first;
    EXPECT_NE(first.find(std::string(", runner_version: ") + arunner::version() +
                         ", uuid: " + uuid + "}"),
              std::string::npos)
        << first;
    EXPECT_EQ(first, second);
}
