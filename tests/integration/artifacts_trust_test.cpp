// Issue 10, the worker's side: a job that replaces its ART with a symlink to a host directory
// while it runs. The worker must not zip the link's target onto the stream, and nothing in the
// host directory may change.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/command.hpp"
#include "support/file_helpers.hpp"
#include "support/fixture.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
    return "'" + s + "'";
}

TEST(ArtifactsTrust, AWorkerNeverZipsTheTargetOfASymlinkSwappedInForArt) {
    TempDir tmp;
    fs::path pdd = copy_fixture("failing", tmp);
    fs::path host = tmp / "host";
    fs::create_directories(host);
    { std::ofstream(host / "secret") << "host secret"; }
    ::chmod((host / "secret").c_str(), 0644);
    {
        std::ofstream site(pdd / "project/site.yml");
        site << "- hosts: all\n  gather_facts: false\n  tasks:\n"
             << "    - name: swap ART for a link to a host dir\n"
             << "      shell: art=\"{{ lookup('env', 'AWX_ISOLATED_DATA_DIR') }}\" && "
             << "mv \"$art\" \"$art.moved\" && ln -s " << host.string() << " \"$art\"\n";
    }
    fs::path out = tmp / "out";
    std::string arunner = quote(ARUNNER_BINARY);
    CommandResult r = run_command({"/bin/sh", "-c",
                                   arunner + " transmit " + quote(pdd.string()) +
                                       " -p site.yml -i w | " + arunner + " worker | " + arunner +
                                       " process " + quote(out.string()) + " -i w"});
    // The host dir is as it was, and none of it reached the controller.
    std::vector<std::string> in_host;
    for (const auto& entry : fs::directory_iterator(host)) {
        in_host.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(in_host, std::vector<std::string>{"secret"});
    EXPECT_EQ(slurp(host / "secret"), "host secret");
    EXPECT_EQ(lstat_of(host / "secret").st_mode & 07777, 0644u);
    ASSERT_TRUE(fs::is_directory(out / "artifacts/w")) << r.err;
    for (const auto& entry : fs::recursive_directory_iterator(out)) {
        EXPECT_NE(entry.path().filename(), "secret") << entry.path();
        if (entry.is_regular_file()) {
            EXPECT_EQ(slurp(entry.path()).find("host secret"), std::string::npos) << entry.path();
        }
    }
    // The worker says why it could not send the artifacts, and `process` reports the error.
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE((r.out + r.err).find("symlink"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace arunner::testing
