// RestContainerEngine (src/engine/rest_container_engine.cpp) against a fake engine that answers
// each request from a table: which endpoint each call uses per dialect, and how answers (the
// bare libpod exit code, "no such container" on delete, "can only kill running containers")
// become results.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/rest_container_engine.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::engine {
namespace {

using namespace std::chrono_literals;

/// A request line and body as the fake saw them.
struct Seen {
    std::string method;
    std::string target;
    std::string body;
};

/// Answers requests with `answer(method, target)` (raw HTTP) on a thread, keeping connections
/// alive; after a 101 answer it closes the connection, ending the attach stream.
class TableEngine {
  public:
    using Answer = std::function<std::string(const Seen&)>;

    TableEngine(const std::filesystem::path& socket, Answer answer) : answer_(std::move(answer)) {
        listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socket.c_str(), sizeof(address.sun_path) - 1);
        EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
        EXPECT_EQ(::listen(listen_.get(), 8), 0);
        int fds[2];
        EXPECT_EQ(::pipe(fds), 0);
        stop_read_.reset(fds[0]);
        stop_write_.reset(fds[1]);
        thread_ = std::thread([this] { run(); });
    }
    ~TableEngine() {
        (void)!::write(stop_write_.get(), "x", 1);
        thread_.join();
    }
    std::vector<Seen> seen() {
        std::lock_guard lock(mutex_);
        return seen_;
    }

  private:
    // Serves connections one request at a time; a new connection is polled alongside the others.
    void run() {
        std::vector<std::pair<util::UniqueFd, std::string>> clients;
        for (;;) {
            std::vector<pollfd> fds = {{stop_read_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
            for (auto& client : clients) {
                fds.push_back({client.first.get(), POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), -1) < 0 || (fds[0].revents & POLLIN)) {
                return;
            }
            if (fds[1].revents & POLLIN) {
                clients.emplace_back(util::UniqueFd(::accept(listen_.get(), nullptr, nullptr)), "");
            }
            for (size_t i = 2; i < fds.size(); ++i) {
                if (fds[i].revents & (POLLIN | POLLHUP)) {
                    serve(clients[i - 2]);
                }
            }
            std::erase_if(clients, [](const auto& client) { return !client.first.valid(); });
        }
    }

    void serve(std::pair<util::UniqueFd, std::string>& client) {
        char buffer[4096];
        ssize_t n = ::recv(client.first.get(), buffer, sizeof(buffer), 0);
        if (n <= 0) {
            client.first.reset();
            return;
        }
        std::string& data = client.second;
        data.append(buffer, static_cast<size_t>(n));
        size_t end = data.find("\r\n\r\n");
        if (end == std::string::npos) {
            return;
        }
        std::string head = data.substr(0, end);
        size_t length = 0;
        if (size_t at = head.find("Content-Length: "); at != std::string::npos) {
            length = std::stoul(head.substr(at + 16));
        }
        if (data.size() < end + 4 + length) {
            return;
        }
        Seen seen;
        size_t space = head.find(' ');
        seen.method = head.substr(0, space);
        seen.target = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
        seen.body = data.substr(end + 4, length);
        data.erase(0, end + 4 + length);
        {
            std::lock_guard lock(mutex_);
            seen_.push_back(seen);
        }
        std::string reply = answer_(seen);
        (void)!::send(client.first.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
        if (reply.starts_with("HTTP/1.1 101")) {
            client.first.reset();
        }
    }

    Answer answer_;
    util::UniqueFd listen_;
    util::UniqueFd stop_read_;
    util::UniqueFd stop_write_;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<Seen> seen_;
};

std::string reply(int status, const std::string& body = "") {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string podman_error(int status, const std::string& message) {
    return reply(status, R"({"cause":"x","message":")" + message + R"(","response":)" +
                             std::to_string(status) + "}");
}

std::unique_ptr<RestContainerEngine> engine_at(const std::filesystem::path& socket,
                                               EngineDialect dialect) {
    auto engine = RestContainerEngine::create({socket, dialect});
    EXPECT_TRUE(engine.ok());
    return std::move(*engine);
}

std::string message_of(const Status& status) {
    return status.ok() ? "ok" : status.error().message;
}

// --- the REST engine -------------------------------------------------------------------------

constexpr const char* kPodmanVersion =
    R"({"Components":[{"Name":"Podman Engine","Version":"4.3.1"}],"Version":"4.3.1","ApiVersion":"1.41"})";
constexpr const char* kDockerVersion =
    R"({"Components":[{"Name":"Engine","Version":"20.10.24"}],"Version":"20.10.24","ApiVersion":"1.41"})";

TEST(RestContainerEngine, VersionTellsPodmanFromDocker) {
    testing::TempDir dir;
    std::string answer = kPodmanVersion;
    TableEngine fake(dir / "e.sock", [&](const Seen&) { return reply(200, answer); });
    auto engine = engine_at(dir / "e.sock", EngineDialect::docker);
    auto version = engine->version();
    ASSERT_TRUE(version.ok()) << version.error().message;
    EXPECT_EQ(version->version, "4.3.1");
    EXPECT_EQ(version->api_version, "1.41");
    EXPECT_TRUE(version->is_podman);
    answer = kDockerVersion;
    version = engine->version();
    ASSERT_TRUE(version.ok());
    EXPECT_FALSE(version->is_podman);
    answer = R"({"hello":"world"})";
    version = engine->version();
    ASSERT_FALSE(version.ok());
    EXPECT_EQ(version.error().message,
              "GET /v1.41/version: unexpected answer: no Version/ApiVersion (is " +
                  (dir / "e.sock").string() + " a container engine?)");
}

TEST(RestContainerEngine, WaitUsesLibpodOnPodman) {
    testing::TempDir dir;
    TableEngine fake(dir / "e.sock", [](const Seen& seen) {
        if (seen.target == "/v1.41/version") {
            return reply(200, kPodmanVersion);
        }
        if (seen.target == "/v4.0.0/libpod/containers/abc/wait?condition=exited") {
            return reply(200, "3\n");
        }
        return reply(500, R"({"message":"wrong endpoint"})");
    });
    auto podman = engine_at(dir / "e.sock", EngineDialect::podman);
    auto code = podman->wait("abc");
    ASSERT_TRUE(code.ok()) << code.error().message;
    EXPECT_EQ(*code, 3);
    // The docker dialect spoken to podman still waits the cheap way once version() saw podman.
    auto docker = engine_at(dir / "e.sock", EngineDialect::docker);
    ASSERT_TRUE(docker->version().ok());
    code = docker->wait("abc");
    ASSERT_TRUE(code.ok()) << code.error().message;
    EXPECT_EQ(*code, 3);
}

TEST(RestContainerEngine, WaitOnDocker) {
    testing::TempDir dir;
    TableEngine fake(dir / "e.sock", [](const Seen& seen) {
        if (seen.target == "/v1.41/containers/ok/wait") {
            return reply(200, R"({"Error":null,"StatusCode":7})");
        }
        if (seen.target == "/v1.41/containers/bad/wait") {
            return reply(200, R"({"Error":{"Message":"container vanished"},"StatusCode":-1})");
        }
        return podman_error(404, "No such container: gone");
    });
    auto engine = engine_at(dir / "e.sock", EngineDialect::docker);
    auto code = engine->wait("ok");
    ASSERT_TRUE(code.ok()) << code.error().message;
    EXPECT_EQ(*code, 7);
    code = engine->wait("bad");
    ASSERT_FALSE(code.ok());
    EXPECT_EQ(code.error().message, "POST /v1.41/containers/bad/wait: container vanished");
    code = engine->wait("gone");
    ASSERT_FALSE(code.ok());
    EXPECT_EQ(code.error().message,
              "POST /v1.41/containers/gone/wait: 404 No such container: gone");
}

TEST(RestContainerEngine, RemoveTreatsMissingAsGone) {
    testing::TempDir dir;
    TableEngine fake(dir / "e.sock", [](const Seen& seen) {
        if (seen.target.starts_with("/v1.41/containers/a?")) {
            return reply(204);
        }
        if (seen.target.starts_with("/v1.41/containers/b?")) {
            return podman_error(404,
                                "no container with name or ID \\\"b\\\" found: no such container");
        }
        if (seen.target.starts_with("/v1.41/containers/c?")) {
            return podman_error(500, "no container with ID c found in database: no such container");
        }
        return podman_error(409, "removal of container d is already in progress");
    });
    auto engine = engine_at(dir / "e.sock", EngineDialect::podman);
    EXPECT_EQ(message_of(engine->remove("a", true)), "ok");
    EXPECT_EQ(message_of(engine->remove("b", true)), "ok");
    EXPECT_EQ(message_of(engine->remove("c", false)), "ok");
    EXPECT_EQ(message_of(engine->remove("d", true)),
              "DELETE /v1.41/containers/d: 409 removal of container d is already in progress");
    auto seen = fake.seen();
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0].method, "DELETE");
    EXPECT_EQ(seen[0].target, "/v1.41/containers/a?v=1&force=1");
    EXPECT_EQ(seen[2].target, "/v1.41/containers/c?v=1");
}

TEST(RestContainerEngine, KillOfAStoppedContainerIsFine) {
    testing::TempDir dir;
    TableEngine fake(dir / "e.sock", [](const Seen& seen) {
        if (seen.target == "/v1.41/containers/running/kill?signal=9") {
            return reply(204);
        }
        if (seen.target.starts_with("/v1.41/containers/exited/")) {
            return podman_error(500,
                                "can only kill running containers. x is in state exited: "
                                "container state improper");
        }
        if (seen.target.starts_with("/v1.41/containers/dockerexited/")) {
            return reply(409, R"({"message":"Container dockerexited is not running"})");
        }
        return podman_error(404,
                            "no container with name or ID \\\"nope\\\" found: no such container");
    });
    auto engine = engine_at(dir / "e.sock", EngineDialect::podman);
    EXPECT_EQ(message_of(engine->kill("running", 9)), "ok");
    EXPECT_EQ(message_of(engine->kill("exited", 9)), "ok");
    EXPECT_EQ(message_of(engine->kill("dockerexited", 15)), "ok");
    EXPECT_EQ(message_of(engine->kill("nope", 9)),
              "POST /v1.41/containers/nope/kill: 404 no container with name or ID \"nope\" found: "
              "no such container");
}

TEST(RestContainerEngine, CreateSendsNameAndBody) {
    testing::TempDir dir;
    TableEngine fake(dir / "e.sock", [](const Seen& seen) {
        if (seen.body.find("localhost/missing") != std::string::npos) {
            return podman_error(404, "no such image: localhost/missing: image not known");
        }
        return reply(201, R"({"Id":"0123abcd","Warnings":[]})");
    });
    auto engine = engine_at(dir / "e.sock", EngineDialect::podman);
    ContainerSpec spec;
    spec.name = "ansible_runner_x1";
    spec.image = "localhost/tiny";
    spec.cmd = {"true"};
    auto id = engine->create(spec);
    ASSERT_TRUE(id.ok()) << id.error().message;
    EXPECT_EQ(*id, "0123abcd");
    ASSERT_EQ(fake.seen().size(), 1u);
    EXPECT_EQ(fake.seen()[0].target, "/v1.41/containers/create?name=ansible_runner_x1");
    EXPECT_EQ(fake.seen()[0].body, make_create_body(spec)->dump());
    spec.image = "localhost/missing";
    id = engine->create(spec);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(
        id.error().message,
        "POST /v1.41/containers/create: 404 no such image: localhost/missing: image not known");
    spec.image.clear();
    id = engine->create(spec);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.error().message, "container ansible_runner_x1: no image given");
    EXPECT_EQ(fake.seen().size(), 2u);  // a bad spec never reaches the engine
}

TEST(RestContainerEngine, ImagesPerDialect) {
    testing::TempDir dir;
    TableEngine fake(dir / "e.sock", [](const Seen& seen) {
        if (seen.target == "/v4.0.0/libpod/images/localhost/there:1/exists" ||
            seen.target == "/v1.41/images/localhost/there:1/json") {
            return reply(seen.target.ends_with("exists") ? 204 : 200,
                         seen.target.ends_with("exists") ? "" : R"({"Id":"sha256:1"})");
        }
        if (seen.target.starts_with("/v4.0.0/libpod/images/localhost/there:1/untag")) {
            return reply(201);
        }
        if (seen.target == "/v1.41/images/json") {
            return reply(200, R"([{"Id":"sha256:1","RepoTags":["localhost/there:1"],"Size":42},)"
                              R"({"Id":"sha256:2","RepoTags":null,"Size":7}])");
        }
        if (seen.target.starts_with("/v1.41/images/prune")) {
            return reply(200, R"({"ImagesDeleted":[{"Deleted":"sha256:2"}],"SpaceReclaimed":7})");
        }
        return podman_error(404, "failed to find image x");
    });
    auto podman = engine_at(dir / "e.sock", EngineDialect::podman);
    auto docker = engine_at(dir / "e.sock", EngineDialect::docker);
    EXPECT_TRUE(*podman->image_exists("localhost/there:1"));
    EXPECT_FALSE(*podman->image_exists("localhost/elsewhere"));
    EXPECT_TRUE(*docker->image_exists("localhost/there:1"));
    EXPECT_FALSE(*docker->image_exists("localhost/elsewhere"));
    auto listed = podman->list_images();
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].tags, std::vector<std::string>{"localhost/there:1"});
    EXPECT_EQ((*listed)[1].size, 7);
    EXPECT_EQ(message_of(podman->untag_image("localhost/there:1")), "ok");
    auto pruned = podman->prune_images();
    ASSERT_TRUE(pruned.ok());
    EXPECT_EQ(pruned->deleted, std::vector<std::string>{"sha256:2"});
    EXPECT_EQ(pruned->space_reclaimed, 7);
    auto inspected = docker->inspect_image("localhost/elsewhere");
    ASSERT_FALSE(inspected.ok());
    EXPECT_EQ(inspected.error().message,
              "GET /v1.41/images/localhost/elsewhere/json: 404 failed to find image x");
    bool untag_seen = false;
    for (const Seen& seen : fake.seen()) {
        untag_seen =
            untag_seen ||
            seen.target ==
                "/v4.0.0/libpod/images/localhost/there:1/untag?repo=localhost%2Fthere&tag=1";
        if (seen.target.starts_with("/v1.41/images/prune")) {
            EXPECT_EQ(seen.target,
                      "/v1.41/images/prune?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D");
        }
    }
    EXPECT_TRUE(untag_seen);
}

TEST(RestContainerEngine, InspectListStartAndAttach) {
    testing::TempDir dir;
    TableEngine fake(dir / "e.sock", [](const Seen& seen) {
        if (seen.target == "/v1.41/containers/abc/json") {
            return reply(
                200, R"({"Id":"abc","Name":"/ansible_runner_1","Config":{"Image":"localhost/t",)"
                     R"("Tty":true,"Labels":{"ansible_runner_ident":"1"}},)"
                     R"("State":{"Status":"exited","Running":false,"ExitCode":3}})");
        }
        if (seen.target.starts_with("/v1.41/containers/json?")) {
            return reply(200, R"([{"Id":"abc","Names":["/ansible_runner_1"],"Image":"localhost/t",)"
                              R"("State":"exited","Labels":{"ansible_runner_ident":"1"}}])");
        }
        if (seen.target == "/v1.41/containers/abc/start") {
            return reply(304);
        }
        if (seen.target.starts_with("/v1.41/containers/abc/attach?")) {
            return std::string("HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\nraw tty\r\n");
        }
        return reply(404, R"({"message":"no"})");
    });
    auto engine = engine_at(dir / "e.sock", EngineDialect::podman);
    auto info = engine->inspect("abc");
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->name, "ansible_runner_1");
    EXPECT_EQ(info->status, "exited");
    EXPECT_EQ(info->exit_code, 3);
    EXPECT_TRUE(info->tty);
    EXPECT_EQ(info->labels,
              (std::vector<std::pair<std::string, std::string>>{{"ansible_runner_ident", "1"}}));
    auto listed = engine->list("ansible_runner_ident=1");
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].name, "ansible_runner_1");
    EXPECT_EQ(message_of(engine->start("abc")), "ok");
    auto stream = engine->attach("abc");
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    EXPECT_TRUE(stream->tty());  // from the container's Tty
    char buffer[64];
    auto n = stream->read(buffer);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(std::string(buffer, *n), "raw tty\r\n");
    n = stream->read(buffer);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 0u);
    bool list_seen = false;
    for (const Seen& seen : fake.seen()) {
        list_seen =
            list_seen ||
            seen.target ==
                "/v1.41/containers/"
                "json?all=1&filters=%7B%22label%22%3A%5B%22ansible_runner_ident%3D1%22%5D%7D";
    }
    EXPECT_TRUE(list_seen);
}

TEST(RestContainerEngine, UnreachableEngine) {
    testing::TempDir dir;
    auto engine = engine_at(dir / "none.sock", EngineDialect::podman);
    auto version = engine->version();
    ASSERT_FALSE(version.ok());
    EXPECT_EQ(version.error().message, "GET /v1.41/version: no container engine socket at " +
                                           (dir / "none.sock").string() +
                                           " (No such file or directory)");
    EXPECT_FALSE(engine->attach("abc").ok());
    EXPECT_FALSE(engine->wait("abc").ok());
}

}  // namespace
}  // namespace arunner::engine
