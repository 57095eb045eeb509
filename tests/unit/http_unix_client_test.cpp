// HttpUnixClient and the error-message helpers (src/engine/http_unix_client.cpp) against a tiny
// fake engine run in-process on a unix socket (tests/support/fake_engine.hpp): canned answers,
// JSON errors, a peer that hangs up, is not HTTP or never answers, and a socket that is not
// there.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "engine/http_unix_client.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_engine.hpp"
#include "support/temp_dir.hpp"

namespace arunner::engine {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::ordered_json;
using testing::answering;
using testing::FakeConnection;
using testing::FakeEngine;
using testing::FakeRequest;
using testing::http_answer;

/// A client of `socket`. The default timeout is generous: where a test shows that a request
/// fails at once, it does so by getting another error than the timeout's.
HttpUnixClient make_client(const std::filesystem::path& socket,
                           std::chrono::milliseconds timeout = 60000ms,
                           util::Clock& clock = util::steady_clock()) {
    auto client = HttpUnixClient::create({socket, 2000ms, timeout}, clock);
    EXPECT_TRUE(client.ok());
    return std::move(*client);
}

// --- the error-message helpers -----------------------------------------------------------

TEST(HttpUnixClient, EngineMessage) {
    EXPECT_EQ(engine_message(
                  R"({"cause":"image not known","message":"no such image: x","response":404})"),
              "no such image: x");
    EXPECT_EQ(engine_message(R"({"message":"No such container: abc"})"), "No such container: abc");
    EXPECT_EQ(engine_message("  page not found\nmore\n"), "page not found");
    EXPECT_EQ(engine_message(""), "");
    EXPECT_EQ(engine_message(R"({"other":1})"), R"({"other":1})");
}

TEST(HttpUnixClient, StatusErrorFormat) {
    HttpResponse response{404, "Not Found", R"({"message":"no such image: localhost/x"})", {}};
    EXPECT_EQ(http_status_error("POST", "/v1.41/containers/create", response).message,
              "POST /v1.41/containers/create: 404 no such image: localhost/x");
    response = {500, "Internal Server Error", "", {}};
    EXPECT_EQ(http_status_error("GET", "/x", response).message,
              "GET /x: 500 Internal Server Error");
    response = {502, "", "", {}};
    EXPECT_EQ(http_status_error("GET", "/x", response).message, "GET /x: 502");
}

TEST(HttpUnixClient, UrlEncode) {
    EXPECT_EQ(url_encode(R"({"label":["a=b"]})"), "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
    EXPECT_EQ(url_encode("localhost/x:1.0@sha", "/:@"), "localhost/x:1.0@sha");
    EXPECT_EQ(url_encode("a b/c"), "a%20b%2Fc");
}

// --- the client against the fake engine ----------------------------------------------------

TEST(HttpUnixClient, JsonRequestsReuseOneConnection) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, answering([](const FakeRequest& request) {
                          return http_answer(200, "OK", R"({"seen":")" + request.target + "\"}");
                      }));
    HttpUnixClient client = make_client(socket);
    for (int i = 0; i < 3; ++i) {
        auto answer = client.send_json({"GET", "/v1.41/version?i=" + std::to_string(i)});
        ASSERT_TRUE(answer.ok()) << answer.error().message;
        EXPECT_EQ((*answer)["seen"], "/v1.41/version?i=" + std::to_string(i));
    }
    HttpRequest post{"POST", "/v1.41/containers/create?name=n"};
    post.body = json{{"Image", "localhost/x"}, {"Cmd", {"true"}}};
    ASSERT_TRUE(client.send_json(post).ok());
    EXPECT_EQ(engine.connections(), 1);
    auto requests = engine.requests();
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_EQ(requests[3].method, "POST");
    EXPECT_EQ(requests[3].body, R"({"Image":"localhost/x","Cmd":["true"]})");
    EXPECT_NE(requests[3].head.find("Content-Type: application/json"), std::string::npos);
    EXPECT_EQ(requests[0].head.find("Content-Type"), std::string::npos);
}

TEST(HttpUnixClient, JsonErrorNamesEndpointStatusAndMessage) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(
        socket, answering([](const FakeRequest&) {
            return http_answer(
                404, "Not Found",
                R"({"cause":"image not known","message":"no such image: localhost/x","response":404})");
        }));
    HttpUnixClient client = make_client(socket);
    HttpRequest request{"POST", "/v1.41/containers/create"};
    request.body = json{{"Image", "localhost/x"}};
    auto answer = client.send_json(request);
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().message,
              "POST /v1.41/containers/create: 404 no such image: localhost/x");
    auto raw = client.send(request);  // send() hands back any status
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(raw->status, 404);
    EXPECT_EQ(raw->reason, "Not Found");
}

TEST(HttpUnixClient, PeerThatClosesAtOnce) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection&, FakeEngine&) {});
    HttpUnixClient client = make_client(socket);
    auto answer = client.send({"GET", "/v1.41/version"});
    ASSERT_FALSE(answer.ok());
    // When the peer's close beats libcurl's check of the connect (a loaded machine), the
    // connect itself is reported as failed; either way the message names the socket.
    const std::string closed = "GET /v1.41/version: " + socket.string() +
                               " closed the connection without an HTTP answer (is it a container "
                               "engine?)";
    const std::string refused =
        "GET /v1.41/version: cannot connect to the container engine "
        "socket " +
        socket.string() + ": connection failed";
    EXPECT_TRUE(answer.error().message == closed || answer.error().message == refused)
        << answer.error().message;
}

TEST(HttpUnixClient, PeerThatIsNotHttp) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        connection.write("SSH-2.0-OpenSSH_9.2\r\n");
        connection.read_to_eof();  // and waits for the client's greeting
    });
    HttpUnixClient client = make_client(socket);
    auto answer = client.send({"GET", "/v1.41/version"});  // not the timeout's message
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().message.rfind("GET /v1.41/version: " + socket.string() +
                                               " did not answer as an HTTP container engine: ",
                                           0),
              0u)
        << answer.error().message;
}

TEST(HttpUnixClient, PeerThatNeverAnswersTimesOut) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket,
                      [](FakeConnection& connection, FakeEngine&) { connection.read_to_eof(); });
    // On a fake clock the timeout fires after exactly its length, at once.
    testing::FakeClock clock;
    HttpUnixClient client = make_client(socket, 300ms, clock);
    const auto start = clock.now();
    auto answer = client.send({"GET", "/v1.41/version"});
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().message,
              "GET /v1.41/version: no answer from the container engine "
              "socket " +
                  socket.string() + " within 300 ms");
    EXPECT_EQ(clock.now() - start, 300ms);
    // A request's own timeout overrides the client's.
    HttpRequest longer{"GET", "/v1.41/version"};
    longer.timeout = 2500ms;
    auto again = client.send(longer);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find(" within 2500 ms"), std::string::npos)
        << again.error().message;
    EXPECT_EQ(clock.now() - start, 300ms + 2500ms);
}

TEST(HttpUnixClient, UnreachableSocketsFailAtOnce) {
    testing::TempDir dir;
    const auto missing = dir / "nothing-here.sock";
    const auto file = dir / "file";
    std::ofstream(file) << "x";
    const auto dead = dir / "dead.sock";
    {
        FakeEngine gone(dead, [](FakeConnection&, FakeEngine&) {});
    }  // leaves the socket file
    // At once: no time passes on the client's clock.
    auto failure = [](const std::filesystem::path& socket) {
        testing::FakeClock clock;
        HttpUnixClient client = make_client(socket, 60000ms, clock);
        const auto start = clock.now();
        auto answer = client.send({"GET", "/v1.41/version"});
        EXPECT_EQ(clock.now() - start, 0ms) << socket;
        return answer.ok() ? std::string("answered") : answer.error().message;
    };
    EXPECT_EQ(failure(missing), "GET /v1.41/version: no container engine socket at " +
                                    missing.string() + " (No such file or directory)");
    EXPECT_EQ(failure(file), "GET /v1.41/version: " + file.string() +
                                 " is not a socket, so not a container engine");
    EXPECT_EQ(failure(dead), "GET /v1.41/version: cannot connect to the container engine socket " +
                                 dead.string() + ": Connection refused");
}

TEST(HttpUnixClient, EndlessErrorBodyIsCutAndSaidSo) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write("HTTP/1.1 500 Internal Server Error\r\nContent-Length: " +
                             std::to_string(size_t{64} << 20) + "\r\n\r\n");
            const std::string block(64 * 1024, 'y');
            for (int i = 0; i < 1024 && connection.write_some(block); ++i) {
            }
        }
    });
    HttpUnixClient client = make_client(socket);
    auto raw = client.send({"GET", "/v1.41/containers/json"});
    ASSERT_TRUE(raw.ok()) << raw.error().message;
    EXPECT_EQ(raw->status, 500);
    EXPECT_TRUE(raw->body_truncated);
    EXPECT_EQ(raw->body.size(), kMaxErrorBodyBytes);
    auto answer = client.send_json({"GET", "/v1.41/containers/json"});
    ASSERT_FALSE(answer.ok());
    EXPECT_NE(answer.error().message.find("GET /v1.41/containers/json: 500 "), std::string::npos);
    EXPECT_NE(answer.error().message.find("(the engine's error body was cut at 1 MiB)"),
              std::string::npos);
}

TEST(HttpUnixClient, ChunkSizeNear2To64IsAnErrorNotAHang) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write(
                "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                "fffffffffffffffa\r\nboom\r\n0\r\n\r\n");
        }  // and hangs up
    });
    HttpUnixClient client = make_client(socket);
    auto answer = client.send_json({"DELETE", "/v1.41/containers/x"});
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().message.rfind("DELETE /v1.41/containers/x: ", 0), 0u)
        << answer.error().message;
}

}  // namespace
}  // namespace arunner::engine
