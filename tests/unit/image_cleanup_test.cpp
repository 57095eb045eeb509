// src/isolation/image_cleanup.cpp: `worker cleanup --remove-images / --image-prune` through the
// engine API, here the in-memory engine (the real one: tests/podman/image_cleanup_test.cpp).

#include "isolation/image_cleanup.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/in_memory_engine.hpp"

namespace arunner::isolation {
namespace {

using arunner::testing::InMemoryEngine;

TEST(ImageCleanup, TagMatchesAsTheEnginesImagesListDoes) {
    EXPECT_TRUE(image_tag_matches("localhost/a:1", "localhost/a"));
    EXPECT_TRUE(image_tag_matches("localhost/a:1", "localhost/a:1"));
    EXPECT_FALSE(image_tag_matches("localhost/a:1", "localhost/a:2"));
    EXPECT_FALSE(image_tag_matches("localhost/ab:1", "localhost/a"));
    EXPECT_FALSE(image_tag_matches("localhost/a/b:1", "localhost/a"));
    // Short names, as podman and docker resolve them locally.
    EXPECT_TRUE(image_tag_matches("localhost/a:1", "a"));
    EXPECT_TRUE(image_tag_matches("docker.io/library/a:1", "a:1"));
    EXPECT_FALSE(image_tag_matches("quay.io/x/a:1", "a"));
    // A registry with a port is not a tag.
    EXPECT_TRUE(image_tag_matches("127.0.0.1:5000/x/a:v1", "127.0.0.1:5000/x/a"));
    EXPECT_FALSE(image_tag_matches("127.0.0.1:5000/x/a:v1", "127.0.0.1:5000/x/a:v2"));
    // An untagged image (podman lists "<none>:<none>") matches nothing.
    EXPECT_FALSE(image_tag_matches("<none>:<none>", "<none>"));
}

TEST(ImageCleanup, UntagsEveryTagOfEachImageOnce) {
    InMemoryEngine engine;
    engine.set_images({"localhost/a:1", "localhost/a:2", "localhost/b:1", "localhost/c:1"});
    auto removed = remove_images(engine, {"localhost/a", "b:1", "localhost/a:1", "localhost/x"});
    ASSERT_TRUE(removed.ok()) << removed.error().message;
    EXPECT_EQ(*removed, 3);
    auto left = engine.list_images();
    ASSERT_TRUE(left.ok());
    ASSERT_EQ(left->size(), 1U);
    EXPECT_EQ(left->front().tags, std::vector<std::string>{"localhost/c:1"});
    // Untag only: nothing was force-removed.
    for (const std::string& call : engine.calls()) {
        EXPECT_NE(call.rfind("remove", 0), 0U) << call;
    }
}

TEST(ImageCleanup, NothingToRemoveIsZero) {
    InMemoryEngine engine;
    engine.set_images({"localhost/c:1"});
    auto removed = remove_images(engine, {"localhost/none"});
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, 0);
}

TEST(ImageCleanup, EngineErrorsNameTheCall) {
    InMemoryEngine engine;
    engine.set_images({"localhost/a:1"});
    engine.fail_next("list_images", Error{"GET /images/json: 500: storage is broken"});
    auto listed = remove_images(engine, {"localhost/a"});
    ASSERT_FALSE(listed.ok());
    EXPECT_EQ(listed.error().message, "GET /images/json: 500: storage is broken");
    engine.fail_next("untag_image", Error{"POST /images/localhost/a:1/untag: 500: locked"});
    auto untagged = remove_images(engine, {"localhost/a"});
    ASSERT_FALSE(untagged.ok());
    EXPECT_EQ(untagged.error().message,
              "untagging image localhost/a:1: POST /images/localhost/a:1/untag: 500: locked");
}

TEST(ImageCleanup, PruneSaysWhetherItRemovedSomething) {
    InMemoryEngine engine;
    auto pruned = prune_images(engine);
    ASSERT_TRUE(pruned.ok());
    EXPECT_FALSE(*pruned);
    engine.fail_next("prune_images", Error{"POST /images/prune: 500: busy"});
    auto failed = prune_images(engine);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().message, "POST /images/prune: 500: busy");
}

}  // namespace
}  // namespace arunner::isolation
