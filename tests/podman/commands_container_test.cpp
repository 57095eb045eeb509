// run_command() and the helper queries with process isolation, against the engine under test
// and the EE image: the command runs in the container with host_cwd as its mounted workdir, an
// ansible command's inventory file is mounted at its own path, and ansible-doc answers from
// the image (SPEC §7.7, docs/commands.md).

#include <gtest/gtest.h>

#include <fstream>

#include "arunner/commands.hpp"
#include "support/fixture.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

namespace fs = std::filesystem;

class CommandsInContainer : public EngineSuite {
  protected:
    static RunOptions isolated(const fs::path& pdd, RunnerMode mode) {
        RunOptions options;
        options.private_data_dir = pdd;
        options.runner_mode = mode;
        options.console_fd = -1;
        options.process_isolation = true;
        options.process_isolation_executable = TestEngine::name();
        options.container_image = kEeImage;
        options.container_engine_socket = service_->socket().string();
        return options;
    }
};

TEST_F(CommandsInContainer, HostCwdIsMountedAndIsTheWorkdir) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    fs::create_directories(tmp / "cwd");
    std::ofstream(tmp / "cwd/file.txt") << "from the host\n";
    RunOptions options = isolated(tmp / "pdd", RunnerMode::subprocess);
    options.command = {"sh", "-c", "pwd; cat file.txt; test -d /runner/artifacts"};
    options.host_cwd = tmp / "cwd";
    auto result = run_command(options);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->rc, 0) << result->out << result->err;
    EXPECT_EQ(result->out, (tmp / "cwd").string() + "\nfrom the host\n");
}

TEST_F(CommandsInContainer, AnInventoryFileArgumentIsMounted) {
    TempDir tmp;
    fs::path pdd = copy_fixture("queries", tmp);
    InventoryQuery query;
    query.action = "list";
    query.inventories = {(pdd / "inventory/hosts").string()};
    query.response_format = "json";
    auto result = get_inventory(query, isolated(pdd, RunnerMode::subprocess));
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->command.rc, 0) << result->err;
    EXPECT_EQ(result->response["web"]["hosts"], (std::vector<std::string>{"web1", "web2"}));
}

TEST_F(CommandsInContainer, PluginDocsComeFromTheImage) {
    TempDir tmp;
    fs::create_directories(tmp / "pdd");
    PluginDocsQuery query;
    query.plugin_names = {"ansible.builtin.ping"};
    query.response_format = "json";
    auto result = get_plugin_docs(query, isolated(tmp / "pdd", RunnerMode::subprocess));
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->command.rc, 0) << result->err;
    EXPECT_TRUE(result->response["ansible.builtin.ping"]["doc"].contains("short_description"));
}

}  // namespace
}  // namespace arunner::testing
