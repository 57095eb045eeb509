// `arunner worker cleanup --remove-images / --image-prune` through the engine's REST API
// (issue 13, item 3), next to a running container that uses the image: its tags go, the
// container keeps running, and the image it runs stays.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "support/command.hpp"
#include "support/podman_service.hpp"
#include "support/temp_dir.hpp"

namespace arunner::testing {
namespace {

using namespace std::chrono_literals;

class ImageCleanup : public EngineSuite {
  protected:
    /// `arunner worker cleanup ARGS` on the engine under test, named by its variable only.
    static CommandResult cleanup(std::vector<std::string> args) {
        std::vector<std::string> argv = {ARUNNER_BINARY, "worker", "cleanup"};
        argv.insert(argv.end(), args.begin(), args.end());
        for (std::string& option : TestEngine::executable_options()) {
            argv.push_back(std::move(option));
        }
        auto host = service_->host_variable();
        const std::string other = host.first == "DOCKER_HOST" ? "CONTAINER_HOST" : "DOCKER_HOST";
        return run_command(argv, {{other, ""}, host});
    }
};

TEST_F(ImageCleanup, UntagsNextToARunningContainerThatKeepsRunning) {
    auto& engine = service_->engine();
    const std::string repo = "localhost/arunner-cleanup-test-" + std::to_string(::getpid());
    // Two tags of the EE image; a container runs from the first.
    for (const char* tag : {":one", ":two"}) {
        CommandResult tagged =
            run_command({"/bin/sh", "-c", service_->cli() + " tag " + kEeImage + " " + repo + tag});
        ASSERT_EQ(tagged.exit_code, 0) << tagged.err;
    }
    engine::ContainerSpec spec;
    spec.name = "arunner-cleanup-user-" + std::to_string(::getpid());
    spec.image = repo + ":one";
    spec.cmd = {"sleep", "300"};
    spec.init = true;
    auto id = engine.create(spec);
    ASSERT_TRUE(id.ok()) << id.error().message;
    ASSERT_TRUE(engine.start(*id).ok());

    CommandResult r = cleanup({"--remove-images", repo, "localhost/not-there:x"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Removed 2 image(s)\n(changed: True)\n");

    for (const char* tag : {":one", ":two"}) {
        auto exists = engine.image_exists(repo + tag);
        ASSERT_TRUE(exists.ok());
        EXPECT_FALSE(*exists) << repo << tag;
    }
    auto info = engine.inspect(*id);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_TRUE(info->running);
    auto ee = engine.image_exists(kEeImage);
    ASSERT_TRUE(ee.ok());
    EXPECT_TRUE(*ee);

    // Again: nothing left to untag. A prune keeps every image a container uses.
    CommandResult again = cleanup({"--remove-images", repo, "--image-prune"});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out.find("Removed"), std::string::npos) << again.out;
    auto still = engine.inspect(*id);
    ASSERT_TRUE(still.ok()) << still.error().message;
    EXPECT_TRUE(still->running);
    ee = engine.image_exists(kEeImage);
    ASSERT_TRUE(ee.ok());
    EXPECT_TRUE(*ee);

    EXPECT_TRUE(engine.remove(*id, true).ok());
}

}  // namespace
}  // namespace arunner::testing
