// Getting a job's image (src/isolation/image_pull.cpp) against the in-memory engine: each pull
// policy, credentials sent only to their registry, failures that name the registry and what it
// answered without the password, cancel, and the progress line.

#include "isolation/image_pull.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "support/in_memory_engine.hpp"

namespace arunner::isolation {
namespace {

using engine::PullLine;
using engine::PullPolicy;
using testing::InMemoryEngine;

constexpr const char* kImage = "registry.example:5000/ee/awx-ee:1";

engine::ContainerSpec spec_for(const std::string& image, PullPolicy policy) {
    engine::ContainerSpec spec;
    spec.image = image;
    spec.pull_policy = policy;
    return spec;
}

ContainerAuthData credentials(const std::string& host = "registry.example:5000") {
    return ContainerAuthData{host, "robot", "pa55-w0rd-secret", true};
}

Status ensure(InMemoryEngine& engine, PullPolicy policy,
              const std::optional<ContainerAuthData>& auth = std::nullopt,
              const PullContext& context = {}, const std::string& image = kImage) {
    return ensure_image(engine, "podman", "/run/test.sock", spec_for(image, policy), auth, context);
}

TEST(ImagePull, MissingPullsOnlyAnAbsentImage) {
    InMemoryEngine engine;
    engine.set_images({"localhost/arunner-ee"});
    engine.set_registry({kImage});
    ASSERT_TRUE(ensure(engine, PullPolicy::missing, std::nullopt, {}, "localhost/arunner-ee").ok());
    EXPECT_TRUE(engine.pulls().empty());
    ASSERT_TRUE(ensure(engine, PullPolicy::missing).ok());
    ASSERT_EQ(engine.pulls().size(), 1u);
    EXPECT_EQ(engine.pulls()[0].image, kImage);
    EXPECT_TRUE(*engine.image_exists(kImage));
    // Present now: no second pull.
    ASSERT_TRUE(ensure(engine, PullPolicy::missing).ok());
    EXPECT_EQ(engine.pulls().size(), 1u);
}

TEST(ImagePull, AlwaysPullsAPresentImageAndNewerAsksThePodmanEngine) {
    InMemoryEngine engine;
    engine.set_images({kImage});
    engine.set_registry({kImage});
    ASSERT_TRUE(ensure(engine, PullPolicy::always).ok());
    ASSERT_TRUE(ensure(engine, PullPolicy::newer).ok());
    ASSERT_EQ(engine.pulls().size(), 2u);
    EXPECT_FALSE(engine.pulls()[0].only_if_newer);
    EXPECT_TRUE(engine.pulls()[1].only_if_newer);
}

TEST(ImagePull, NeverRefusesAnAbsentImageWithoutAPull) {
    InMemoryEngine engine;
    engine.set_images({});
    engine.set_registry({kImage});
    auto status = ensure(engine, PullPolicy::never);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("'" + std::string(kImage) + "' is not present"),
              std::string::npos);
    EXPECT_NE(status.error().message.find("--pull=never"), std::string::npos);
    EXPECT_TRUE(engine.pulls().empty());
}

TEST(ImagePull, DockerHasNoNewerPolicy) {
    InMemoryEngine engine(engine::EngineDialect::docker);
    auto status = ensure_image(engine, "docker", "/run/d.sock", spec_for(kImage, PullPolicy::newer),
                               std::nullopt, {});
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("docker has no pull policy 'newer'"), std::string::npos);
    EXPECT_TRUE(engine.pulls().empty());
}

TEST(ImagePull, CredentialsGoOnlyToTheirRegistry) {
    InMemoryEngine engine;
    engine.set_images({});
    engine.set_registry({kImage, "quay.io/other/image"});
    auto auth = credentials();
    auth.verify_ssl = false;
    ASSERT_TRUE(ensure(engine, PullPolicy::always, auth).ok());
    ASSERT_TRUE(ensure(engine, PullPolicy::always, auth, {}, "quay.io/other/image").ok());
    auto pulls = engine.pulls();
    ASSERT_EQ(pulls.size(), 2u);
    ASSERT_TRUE(pulls[0].auth.has_value());
    EXPECT_EQ(pulls[0].auth->server, "registry.example:5000");
    EXPECT_EQ(pulls[0].auth->username, "robot");
    EXPECT_EQ(pulls[0].auth->password, "pa55-w0rd-secret");
    EXPECT_FALSE(pulls[0].tls_verify);
    // Another registry gets neither the password nor the TLS switch.
    EXPECT_FALSE(pulls[1].auth.has_value());
    EXPECT_TRUE(pulls[1].tls_verify);
}

TEST(ImagePull, WrongCredentialsNameTheRegistryAndThe401WithoutThePassword) {
    InMemoryEngine engine;
    engine.set_images({});
    engine.set_registry({kImage}, {},
                        engine::RegistryAuth{"registry.example:5000", "robot", "right"});
    auto status = ensure(engine, PullPolicy::missing, credentials());
    ASSERT_FALSE(status.ok());
    const std::string& message = status.error().message;
    EXPECT_NE(message.find("from registry.example:5000 failed"), std::string::npos) << message;
    EXPECT_NE(message.find("refused the credentials"), std::string::npos) << message;
    EXPECT_NE(message.find("401"), std::string::npos) << message;
    EXPECT_EQ(message.find("pa55-w0rd-secret"), std::string::npos) << message;

    auto without = ensure(engine, PullPolicy::missing);
    ASSERT_FALSE(without.ok());
    EXPECT_NE(without.error().message.find("wants credentials"), std::string::npos);
}

TEST(ImagePull, EngineMessagesBecomeReasons) {
    struct Case {
        const char* engine_says;
        const char* reason;
    };
    const Case cases[] = {
        {"reading manifest 1 in registry.example:5000/ee/awx-ee: manifest unknown",
         "no such image or tag"},
        {"pinging container registry registry.example:5000: Get \"https://registry.example:5000/v2/"
         "\": x509: certificate signed by unknown authority",
         "TLS certificate is not trusted (verify_ssl: false"},
        {"pinging container registry registry.example:5000: Get \"https://registry.example:5000/v2/"
         "\": dial tcp 127.0.0.1:5000: connect: connection refused",
         "unreachable"},
        {"something else entirely", "the pull failed"},
    };
    for (const Case& c : cases) {
        InMemoryEngine engine;
        engine.set_images({});
        engine.fail_next("pull_image", Error{c.engine_says});
        auto status = ensure(engine, PullPolicy::missing);
        ASSERT_FALSE(status.ok());
        EXPECT_NE(status.error().message.find(c.reason), std::string::npos)
            << status.error().message;
        EXPECT_NE(status.error().message.find(c.engine_says), std::string::npos);
        EXPECT_NE(status.error().message.find("/run/test.sock"), std::string::npos);
    }
}

TEST(ImagePull, AnEchoedPasswordIsRedacted) {
    InMemoryEngine engine;
    engine.set_images({});
    engine.fail_next("pull_image", Error{"bad login robot:pa55-w0rd-secret (unauthorized)"});
    auto status = ensure(engine, PullPolicy::missing, credentials());
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message.find("pa55-w0rd-secret"), std::string::npos)
        << status.error().message;
    EXPECT_NE(status.error().message.find("robot:*****"), std::string::npos);
}

TEST(ImagePull, CancelStopsThePull) {
    InMemoryEngine engine;
    engine.set_images({});
    PullLine step;
    step.kind = PullLine::Kind::progress;
    step.status = "Downloading";
    step.layer = "abc";
    engine.set_registry({kImage}, {step, step, step});
    int asked = 0;
    PullContext context;
    context.should_cancel = [&] { return ++asked > 1; };
    auto status = ensure(engine, PullPolicy::always, std::nullopt, context);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("was canceled"), std::string::npos)
        << status.error().message;
    EXPECT_FALSE(*engine.image_exists(kImage));

    // A readable cancel fd cancels too.
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_EQ(::write(fds[1], "x", 1), 1);
    PullContext by_fd;
    by_fd.cancel_fds = {-1, fds[0]};
    auto canceled = ensure(engine, PullPolicy::always, std::nullopt, by_fd);
    ::close(fds[0]);
    ::close(fds[1]);
    ASSERT_FALSE(canceled.ok());
    EXPECT_NE(canceled.error().message.find("was canceled"), std::string::npos);
}

TEST(ImagePull, RegistryOfAReferenceAndMatchingHosts) {
    EXPECT_EQ(registry_of("quay.io/ansible/awx-ee:latest"), "quay.io");
    EXPECT_EQ(registry_of("127.0.0.1:5000/x/y"), "127.0.0.1:5000");
    EXPECT_EQ(registry_of("localhost/arunner-ee"), "localhost");
    EXPECT_EQ(registry_of("ansible/ansible-runner"), "docker.io");
    EXPECT_EQ(registry_of("ubuntu"), "docker.io");
    EXPECT_TRUE(auth_host_matches("quay.io", "quay.io"));
    EXPECT_TRUE(auth_host_matches("https://Quay.io/", "quay.io"));
    EXPECT_TRUE(auth_host_matches("https://index.docker.io/v1/", "docker.io"));
    EXPECT_TRUE(auth_host_matches("127.0.0.1:5000", "127.0.0.1:5000"));
    EXPECT_FALSE(auth_host_matches("127.0.0.1:5001", "127.0.0.1:5000"));
    EXPECT_FALSE(auth_host_matches("quay.io.evil.example", "quay.io"));
    EXPECT_FALSE(auth_host_matches("", "docker.io"));
}

TEST(ImagePull, ProgressLineSumsBytesOrCountsBlobs) {
    PullProgress bytes("quay.io/x/ee");
    auto step = [](const char* layer, const char* status, int64_t current, int64_t total) {
        PullLine line;
        line.kind = PullLine::Kind::progress;
        line.layer = layer;
        line.status = status;
        line.current = current;
        line.total = total;
        return line;
    };
    bytes.update(step("aaa", "Downloading", 1000000, 4000000));
    bytes.update(step("bbb", "Downloading", 500000, 2000000));
    EXPECT_EQ(bytes.line(), "Pulling quay.io/x/ee: 0/2 layers, 1.5 MB of 6.0 MB");
    bytes.update(step("aaa", "Pull complete", 0, 0));
    EXPECT_EQ(bytes.line(), "Pulling quay.io/x/ee: 1/2 layers, 4.5 MB of 6.0 MB");
    EXPECT_EQ(bytes.line(20).size(), 20u);

    PullProgress blobs("127.0.0.1:5000/x/y");
    PullLine copying;
    copying.kind = PullLine::Kind::progress;
    copying.status = "Copying blob";
    copying.layer = "a68f3d3621b9";
    blobs.update(copying);
    copying.layer = "cfc185d48fca";
    blobs.update(copying);
    EXPECT_EQ(blobs.line(), "Pulling 127.0.0.1:5000/x/y: 2 blobs, Copying blob");

    // A flood of layers is bounded.
    PullProgress flood("x");
    for (size_t i = 0; i < PullProgress::kMaxLayers + 100; ++i) {
        flood.update(step(std::to_string(i).c_str(), "Downloading", 1, 2));
    }
    EXPECT_NE(flood.line().find(std::to_string(PullProgress::kMaxLayers + 100) + " layers"),
              std::string::npos)
        << flood.line();
}

}  // namespace
}  // namespace arunner::isolation
