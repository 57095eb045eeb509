// RestContainerEngine::pull_image (src/engine/rest_container_engine.cpp) against a fake engine:
// the endpoint per dialect and switch, the credentials only in the X-Registry-Auth header, the
// answer read line by line as it streams, an error line inside a 200 answer, a hostile answer,
// and a cancel.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/pull_progress.hpp"
#include "engine/rest_container_engine.hpp"
#include "support/fake_engine.hpp"
#include "support/temp_dir.hpp"

namespace arunner::engine {
namespace {

using testing::FakeRequest;

std::unique_ptr<RestContainerEngine> engine_at(const std::filesystem::path& socket,
                                               EngineDialect dialect) {
    auto engine = RestContainerEngine::create({socket, dialect});
    EXPECT_TRUE(engine.ok());
    return std::move(*engine);
}

/// A chunked 200 answer whose chunks are `lines`.
std::string streamed(const std::vector<std::string>& lines) {
    std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (const std::string& line : lines) {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", line.size());
        answer += size + line + "\r\n";
    }
    return answer + "0\r\n\r\n";
}

/// The X-Registry-Auth header's value in `head`, decoded from base64url.
std::string registry_auth(const std::string& head) {
    const std::string name = "X-Registry-Auth: ";
    size_t at = head.find(name);
    if (at == std::string::npos) {
        return {};
    }
    std::string value = head.substr(at + name.size(), head.find("\r\n", at) - at - name.size());
    std::string bytes;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : value) {
        const std::string alphabet =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t index = alphabet.find(c);
        if (index == std::string::npos) {
            continue;  // '=' padding
        }
        buffer = (buffer << 6) | static_cast<unsigned>(index);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return bytes;
}

TEST(RestImagePull, DockerApiWithTagCredentialsInTheHeaderAndProgress) {
    testing::TempDir dir;
    testing::FakeEngine fake(dir / "e.sock", testing::answering([](const FakeRequest&) {
                                 return streamed({
                                     R"({"status":"Pulling from x/ee","id":"1"})"
                                     "\n",
                                     R"({"status":"Downloading","progressDetail":{"current":5,)",
                                     R"("total":10},"id":"abc"})"
                                     "\n",
                                     R"({"status":"Pull complete","id":"abc"})"
                                     "\n",
                                 });
                             }));
    auto engine = engine_at(dir / "e.sock", EngineDialect::docker);
    PullRequest request;
    request.image = "127.0.0.1:5000/x/ee";
    request.auth = RegistryAuth{"127.0.0.1:5000", "robot", "pa+ss/word?"};
    request.platform = "linux/amd64";
    std::vector<PullLine> lines;
    auto pulled = engine->pull_image(request, [&](const PullLine& line) {
        lines.push_back(line);
        return true;
    });
    ASSERT_TRUE(pulled.ok()) << pulled.error().message;
    auto seen = fake.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].target,
              "/v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fx%2Fee&tag=latest"
              "&platform=linux%2Famd64");
    EXPECT_EQ(registry_auth(seen[0].head),
              R"({"username":"robot","password":"pa+ss/word?","serveraddress":"127.0.0.1:5000"})");
    // Nowhere else in the request.
    EXPECT_EQ(seen[0].target.find("pa+ss"), std::string::npos);
    EXPECT_EQ(seen[0].body, "");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[1].layer, "abc");
    EXPECT_EQ(lines[1].current, 5);
    EXPECT_EQ(lines[1].total, 10);
}

TEST(RestImagePull, PodmanUsesLibpodWhenTlsIsNotVerifiedOrOnlyNewer) {
    testing::TempDir dir;
    testing::FakeEngine fake(
        dir / "e.sock", testing::answering([](const FakeRequest&) {
            return streamed({R"({"stream":"Copying blob sha256:0123456789abcdef\n"})"
                             "\n",
                             R"({"images":["f00"],"id":"f00"})"});
        }));
    auto engine = engine_at(dir / "e.sock", EngineDialect::podman);
    PullRequest request;
    request.image = "quay.io/x/ee@sha256:beef";
    ASSERT_TRUE(engine->pull_image(request, {}).ok());
    request.tls_verify = false;
    request.platform = "linux/arm64/v8";
    ASSERT_TRUE(engine->pull_image(request, {}).ok());
    request.tls_verify = true;
    request.platform.clear();
    request.only_if_newer = true;
    ASSERT_TRUE(engine->pull_image(request, {}).ok());
    auto seen = fake.requests();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].target, "/v1.41/images/create?fromImage=quay.io%2Fx%2Fee&tag=sha256%3Abeef");
    EXPECT_EQ(seen[1].target,
              "/v4.0.0/libpod/images/pull?reference=quay.io%2Fx%2Fee%40sha256%3Abeef&policy=always"
              "&tlsVerify=false&os=linux&arch=arm64&variant=v8");
    EXPECT_EQ(seen[2].target,
              "/v4.0.0/libpod/images/pull?reference=quay.io%2Fx%2Fee%40sha256%3Abeef&policy=newer");
    for (const auto& one : seen) {
        EXPECT_EQ(one.head.find("X-Registry-Auth"), std::string::npos);  // none given
    }
}

TEST(RestImagePull, AnErrorLineIsTheEnginesWordsAndAnErrorStatusIsTheRequests) {
    testing::TempDir dir;
    int call = 0;
    testing::FakeEngine fake(dir / "e.sock", testing::answering([&](const FakeRequest&) {
                                 if (++call == 1) {
                                     return streamed({R"({"status":"Pulling"})"
                                                      "\n",
                                                      R"({"errorDetail":{"message":"manifest )"
                                                      R"(unknown"},"error":"manifest unknown"})"});
                                 }
                                 return testing::http_answer(
                                     500, "Internal Server Error",
                                     R"({"message":"unauthorized: authentication required"})");
                             }));
    auto engine = engine_at(dir / "e.sock", EngineDialect::docker);
    PullRequest request;
    request.image = "registry.example/x";
    auto in_stream = engine->pull_image(request, {});
    ASSERT_FALSE(in_stream.ok());
    EXPECT_EQ(in_stream.error().message, "manifest unknown");
    auto status = engine->pull_image(request, {});
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message,
              "POST /v1.41/images/create: 500 unauthorized: authentication required");
}

TEST(RestImagePull, AHostileAnswerIsRefusedWithABound) {
    testing::TempDir dir;
    testing::FakeEngine fake(dir / "e.sock", testing::answering([](const FakeRequest&) {
                                 return streamed({std::string(kMaxPullLineBytes + 10, 'x')});
                             }));
    auto engine = engine_at(dir / "e.sock", EngineDialect::docker);
    PullRequest request;
    request.image = "x";
    auto pulled = engine->pull_image(request, {});
    ASSERT_FALSE(pulled.ok());
    EXPECT_NE(pulled.error().message.find("longer than 64 KiB"), std::string::npos)
        << pulled.error().message;
}

TEST(RestImagePull, TheObserverOrKeepGoingStopsIt) {
    testing::TempDir dir;
    testing::FakeEngine fake(dir / "e.sock", testing::answering([](const FakeRequest&) {
                                 return streamed({R"({"status":"a","id":"1"})"
                                                  "\n",
                                                  R"({"status":"b","id":"1"})"
                                                  "\n"});
                             }));
    auto engine = engine_at(dir / "e.sock", EngineDialect::docker);
    PullRequest request;
    request.image = "x";
    int seen = 0;
    auto stopped = engine->pull_image(request, [&](const PullLine&) { return ++seen < 1; });
    ASSERT_FALSE(stopped.ok());
    EXPECT_EQ(seen, 1);
    EXPECT_NE(stopped.error().message.find("canceled"), std::string::npos);
    request.keep_going = [] { return false; };
    auto canceled = engine->pull_image(request, {});
    ASSERT_FALSE(canceled.ok());
    EXPECT_NE(canceled.error().message.find("canceled"), std::string::npos)
        << canceled.error().message;
}

}  // namespace
}  // namespace arunner::engine
