// src/stream/image_cleanup.cpp: `worker cleanup --remove-images / --image-prune` through the
// engine's command line, here a fake engine script that logs its arguments.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "stream/image_cleanup.hpp"
#include "support/temp_dir.hpp"

namespace arunner::stream {
namespace {

/// A fake `podman`: `images` lists two quoted tags of localhost/a and none of anything else,
/// and fails for "broken"; `rmi` untags; `image prune` prints the file `prune` next to it.
class ImageCleanup : public ::testing::Test {
  protected:
    void SetUp() override {
        engine_ = (dir_ / "podman").string();
        std::ofstream(engine_)
            << "#!/bin/sh\n"
               "here=$(dirname \"$0\")\n"
               "echo \"$@\" >> \"$here/log\"\n"
               "case \"$1\" in\n"
               "  images)\n"
               "    case \"$3\" in\n"
               "      localhost/a) printf '\"localhost/a:1\"\\n\"localhost/a:2\"\\n' ;;\n"
               "      broken) echo 'no such engine state'; exit 125 ;;\n"
               "    esac ;;\n"
               "  rmi) echo \"Untagged: $2\" ;;\n"
               "  image) cat \"$here/prune\" ;;\n"
               "esac\n";
        ::chmod(engine_.c_str(), 0755);
    }
    void TearDown() override {
        if (out_ != nullptr) {
            std::fclose(out_);
        }
        std::free(printed_);
    }

    std::string log() const {
        std::ifstream in(dir_ / "log");
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    std::string printed() {
        std::fflush(out_);
        return std::string(printed_, printed_size_);
    }

    testing::TempDir dir_;
    std::string engine_;
    char* printed_ = nullptr;
    size_t printed_size_ = 0;
    std::FILE* out_ = ::open_memstream(&printed_, &printed_size_);
};

TEST_F(ImageCleanup, RemovesEveryTagOfEachImage) {
    auto removed = remove_images({"localhost/a", "localhost/none"}, engine_, out_);
    ASSERT_TRUE(removed.ok()) << removed.error().message;
    EXPECT_EQ(*removed, 2);
    EXPECT_EQ(log(),
              "images --format=\"{{.Repository}}:{{.Tag}}\" localhost/a\n"
              "rmi localhost/a:1 -f\n"
              "rmi localhost/a:2 -f\n"
              "images --format=\"{{.Repository}}:{{.Tag}}\" localhost/none\n");
    EXPECT_EQ(printed(), "");
}

TEST_F(ImageCleanup, FailingCommandPrintsAnsibleRunnersBlock) {
    auto removed = remove_images({"broken"}, engine_, out_);
    ASSERT_FALSE(removed.ok());
    const std::string command = engine_ + " images --format=\"{{.Repository}}:{{.Tag}}\" broken";
    EXPECT_EQ(removed.error().message, "Error running command: " + command);
    EXPECT_EQ(printed(),
              "Error running command:\n" + command + "\nStdout:\nno such engine state\n\n");
}

TEST_F(ImageCleanup, PruneSaysWhetherItReclaimedSomething) {
    std::ofstream(dir_ / "prune") << "Total reclaimed space: 0B\n";
    auto nothing = prune_images(engine_, out_);
    ASSERT_TRUE(nothing.ok()) << nothing.error().message;
    EXPECT_FALSE(*nothing);
    std::ofstream(dir_ / "prune") << "deadbeef\nTotal reclaimed space: 12MB\n";
    auto some = prune_images(engine_, out_);
    ASSERT_TRUE(some.ok()) << some.error().message;
    EXPECT_TRUE(*some);
    EXPECT_NE(log().find("image prune -f\n"), std::string::npos);
}

}  // namespace
}  // namespace arunner::stream
