// HttpUnixClient (src/engine/http_unix_client.cpp) and AttachStream::open
// (src/engine/attach_stream.cpp) against a tiny fake engine run in-process on a unix socket:
// canned answers, a 101 upgrade followed by frames, JSON errors, a peer that hangs up or is not
// HTTP, and a socket that is not there.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/attach_stream.hpp"
#include "engine/http_unix_client.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace arunner::engine {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

/// One request as the fake engine read it.
struct FakeRequest {
    std::string method;
    std::string target;
    std::string head;  ///< request line and headers
    std::string body;
};

/// The server side of one accepted connection.
class FakeConnection {
  public:
    FakeConnection(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd) {}

    /// The next request on this connection; empty at EOF or when the engine stops.
    std::optional<FakeRequest> read_request() {
        size_t end;
        while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) {
                return std::nullopt;
            }
        }
        FakeRequest request;
        request.head = buffered_.substr(0, end);
        buffered_.erase(0, end + 4);
        size_t space = request.head.find(' ');
        request.method = request.head.substr(0, space);
        request.target =
            request.head.substr(space + 1, request.head.find(' ', space + 1) - space - 1);
        size_t length = 0;
        if (size_t at = request.head.find("Content-Length: "); at != std::string::npos) {
            length = std::stoul(request.head.substr(at + 16));
        }
        while (buffered_.size() < length) {
            if (!fill()) {
                return std::nullopt;
            }
        }
        request.body = buffered_.substr(0, length);
        buffered_.erase(0, length);
        return request;
    }

    /// Everything the client sends until it half-closes (stdin after an upgrade) or the fake
    /// engine stops; also how a silent peer holds a connection open.
    std::string read_to_eof() {
        while (fill()) {
        }
        return std::exchange(buffered_, {});
    }

    /// Writes all of `bytes`; false once the client has hung up.
    bool write_some(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }

    void write(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
    }

  private:
    bool fill() {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, 10000) <= 0 || (fds[1].revents & POLLIN)) {
            return false;
        }
        char buffer[4096];
        ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
        if (n <= 0) {
            return false;
        }
        buffered_.append(buffer, static_cast<size_t>(n));
        return true;
    }

    int fd_;
    int stop_fd_;
    std::string buffered_;
};

/// Listens on `socket` and runs `handler` for each connection, one at a time, on its thread.
class FakeEngine {
  public:
    using Handler = std::function<void(FakeConnection&, FakeEngine&)>;

    FakeEngine(const std::filesystem::path& socket, Handler handler)
        : handler_(std::move(handler)) {
        listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socket.c_str(), sizeof(address.sun_path) - 1);
        if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
            ::listen(listen_.get(), 8) != 0) {
            ADD_FAILURE() << "cannot listen on " << socket << ": " << std::strerror(errno);
        }
        int pipe_fds[2];
        if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
            ADD_FAILURE() << "pipe2";
        }
        stop_read_.reset(pipe_fds[0]);
        stop_write_.reset(pipe_fds[1]);
        thread_ = std::thread([this] { run(); });
    }
    ~FakeEngine() {
        (void)!::write(stop_write_.get(), "x", 1);
        thread_.join();
    }

    int connections() const { return connections_; }
    std::vector<FakeRequest> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    void record(const FakeRequest& request) {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
    }

  private:
    void run() {
        for (;;) {
            pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN)) {
                return;
            }
            util::UniqueFd client(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!client.valid()) {
                continue;
            }
            ++connections_;
            FakeConnection connection(client.get(), stop_read_.get());
            handler_(connection, *this);
        }
    }

    Handler handler_;
    util::UniqueFd listen_;
    util::UniqueFd stop_read_;
    util::UniqueFd stop_write_;
    std::thread thread_;
    std::atomic<int> connections_{0};
    std::mutex mutex_;
    std::vector<FakeRequest> requests_;
};

std::string http_answer(int status, const std::string& reason, const std::string& body,
                        const std::string& content_type = "application/json") {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
    if (!body.empty()) {
        head += "Content-Type: " + content_type + "\r\n";
    }
    return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// Answers every request on a connection with `answer(request)` and records it.
FakeEngine::Handler answering(std::function<std::string(const FakeRequest&)> answer) {
    return [answer](FakeConnection& connection, FakeEngine& engine) {
        while (auto request = connection.read_request()) {
            engine.record(*request);
            connection.write(answer(*request));
        }
    };
}

HttpUnixClient make_client(const std::filesystem::path& socket,
                           std::chrono::milliseconds timeout = 5000ms) {
    auto client = HttpUnixClient::create({socket, 2000ms, timeout});
    EXPECT_TRUE(client.ok());
    return std::move(*client);
}

template <typename F>
std::chrono::milliseconds time_of(F&& f) {
    auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

// --- the client against the fake engine ----------------------------------------------------

TEST(EngineHttp, JsonRequestsReuseOneConnection) {
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

TEST(EngineHttp, JsonErrorNamesEndpointStatusAndMessage) {
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

TEST(EngineHttp, PeerThatClosesAtOnce) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection&, FakeEngine&) {});
    HttpUnixClient client = make_client(socket);
    Result<HttpResponse> answer = Error{};
    auto took = time_of([&] { answer = client.send({"GET", "/v1.41/version"}); });
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
    EXPECT_LT(took, 1000ms);
}

TEST(EngineHttp, PeerThatIsNotHttp) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        connection.write("SSH-2.0-OpenSSH_9.2\r\n");
        connection.read_to_eof();  // and waits for the client's greeting
    });
    HttpUnixClient client = make_client(socket);
    Result<HttpResponse> answer = Error{};
    auto took = time_of([&] { answer = client.send({"GET", "/v1.41/version"}); });
    EXPECT_LT(took, 1000ms);
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().message.rfind("GET /v1.41/version: " + socket.string() +
                                               " did not answer as an HTTP container engine: ",
                                           0),
              0u)
        << answer.error().message;
}

TEST(EngineHttp, PeerThatNeverAnswersTimesOut) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket,
                      [](FakeConnection& connection, FakeEngine&) { connection.read_to_eof(); });
    HttpUnixClient client = make_client(socket, 300ms);
    Result<HttpResponse> answer = Error{};
    auto took = time_of([&] { answer = client.send({"GET", "/v1.41/version"}); });
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().message,
              "GET /v1.41/version: no answer from the container engine "
              "socket " +
                  socket.string() + " within 300 ms");
    EXPECT_LT(took, 2000ms);
}

TEST(EngineHttp, UnreachableSocketsFailAtOnce) {
    testing::TempDir dir;
    const auto missing = dir / "nothing-here.sock";
    const auto file = dir / "file";
    std::ofstream(file) << "x";
    const auto dead = dir / "dead.sock";
    {
        FakeEngine gone(dead, [](FakeConnection&, FakeEngine&) {});
    }  // leaves the socket file
    auto failure = [](const std::filesystem::path& socket) {
        HttpUnixClient client = make_client(socket);
        Result<HttpResponse> answer = Error{};
        auto took = time_of([&] { answer = client.send({"GET", "/v1.41/version"}); });
        EXPECT_LT(took, 1000ms);
        return answer.ok() ? std::string("answered") : answer.error().message;
    };
    EXPECT_EQ(failure(missing), "GET /v1.41/version: no container engine socket at " +
                                    missing.string() + " (No such file or directory)");
    EXPECT_EQ(failure(file), "GET /v1.41/version: " + file.string() +
                                 " is not a socket, so not a container engine");
    EXPECT_EQ(failure(dead), "GET /v1.41/version: cannot connect to the container engine socket " +
                                 dead.string() + ": Connection refused");
}

// --- the attach upgrade ----------------------------------------------------------------------

constexpr const char* kAttachEndpoint = "/v1.41/containers/abc/attach";
constexpr const char* kAttachTarget =
    "/v1.41/containers/abc/attach?stream=1&stdin=1&stdout=1&stderr=1";

/// Reads the attach stream to its end through a poll loop, as a job would.
Status pump(AttachStream& stream, StreamDemux& demux, std::string& out, std::string& err) {
    auto sink = [&](OutputStream which, std::string_view bytes) {
        (which == OutputStream::out ? out : err).append(bytes);
    };
    char buffer[3];  // tiny, so frames are split across reads
    for (;;) {
        if (!stream.has_pending()) {
            pollfd p{stream.fd(), POLLIN, 0};
            if (::poll(&p, 1, 5000) != 1) {
                return Error{"no output within 5 s"};
            }
        }
        auto n = stream.read(buffer);
        if (!n.ok()) {
            return n.error();
        }
        if (*n == 0) {
            return demux.finish();
        }
        ARUNNER_TRY(demux.feed(std::string_view(buffer, *n), sink));
    }
}

TEST(EngineAttach, UpgradeThenFramesThenStdinHalfClose) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine& engine) {
        auto request = connection.read_request();
        if (!request) {
            return;
        }
        engine.record(*request);
        // Headers and the first frames in one write: the client must keep what follows them.
        connection.write(
            "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" +
            encode_stream_frame(OutputStream::out, "hello\n") +
            encode_stream_frame(OutputStream::err, "warn"));
        std::string stdin_bytes = connection.read_to_eof();  // until the client half-closes
        connection.write(encode_stream_frame(OutputStream::out, "stdin was: " + stdin_bytes));
        connection.write(encode_stream_frame(OutputStream::err, "!\n"));
    });
    auto stream = AttachStream::open(socket, kAttachTarget, false, 2000ms);
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    EXPECT_TRUE(stream->has_pending());
    EXPECT_FALSE(stream->tty());
    ASSERT_TRUE(stream->write_stdin("line 1\nline 2\n").ok());
    ASSERT_TRUE(stream->close_stdin().ok());
    ASSERT_TRUE(stream->close_stdin().ok());  // a second close is harmless
    StreamDemux demux(stream->tty());
    std::string out, err;
    auto pumped = pump(*stream, demux, out, err);
    ASSERT_TRUE(pumped.ok()) << pumped.error().message;
    EXPECT_EQ(out, "hello\nstdin was: line 1\nline 2\n");
    EXPECT_EQ(err, "warn!\n");
    auto requests = engine.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].target, kAttachTarget);
    EXPECT_NE(requests[0].head.find("\r\nConnection: Upgrade\r\n"), std::string::npos);
    EXPECT_NE(requests[0].head.find("\r\nUpgrade: tcp"), std::string::npos);
}

TEST(EngineAttach, TtyEndsStdinWithCtrlD) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    std::string received;
    FakeEngine engine(socket, [&](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write("HTTP/1.1 101 UPGRADED\r\n\r\n");
            received = connection.read_to_eof();
        }
    });
    {
        auto stream = AttachStream::open(socket, kAttachTarget, true, 2000ms);
        ASSERT_TRUE(stream.ok()) << stream.error().message;
        EXPECT_FALSE(stream->has_pending());
        ASSERT_TRUE(stream->write_stdin("no newline").ok());
        ASSERT_TRUE(stream->close_stdin().ok());
        EXPECT_FALSE(stream->write_stdin("late").ok());
    }  // closing the socket ends the fake's read
    for (int i = 0; i < 100 && received.empty(); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(received, "no newline\x04\x04");
}

TEST(EngineAttach, EngineErrorIsReported) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(
        socket, answering([](const FakeRequest&) {
            return http_answer(
                404, "Not Found",
                R"({"message":"no container with name or ID \"abc\" found: no such container"})");
        }));
    auto stream = AttachStream::open(socket, kAttachTarget, false, 2000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message, std::string("POST ") + kAttachEndpoint +
                                          ": 404 no container with name or ID \"abc\" found: no "
                                          "such container");
}

TEST(EngineAttach, ChunkedErrorBody) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write(
                "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                "e\r\n{\"message\":\"bo\r\n5\r\nom\"}\n\r\n0\r\n\r\n");
            connection.read_to_eof();
        }
    });
    auto stream = AttachStream::open(socket, kAttachTarget, false, 2000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message, std::string("POST ") + kAttachEndpoint + ": 500 boom");
}

TEST(EngineAttach, MissingSocketAndSilentPeers) {
    testing::TempDir dir;
    auto missing = AttachStream::open(dir / "none.sock", kAttachTarget, false, 2000ms);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message,
              std::string("POST ") + kAttachEndpoint + ": no container engine socket at " +
                  (dir / "none.sock").string() + " (No such file or directory)");

    const auto closing = dir / "closing.sock";
    FakeEngine closes(closing, [](FakeConnection&, FakeEngine&) {});
    auto closed = AttachStream::open(closing, kAttachTarget, false, 2000ms);
    ASSERT_FALSE(closed.ok());
    EXPECT_NE(closed.error().message.find("closed the connection without an HTTP answer"),
              std::string::npos);

    const auto silent = dir / "silent.sock";
    FakeEngine holds(silent,
                     [](FakeConnection& connection, FakeEngine&) { connection.read_to_eof(); });
    Result<AttachStream> timed_out = Error{};
    auto took =
        time_of([&] { timed_out = AttachStream::open(silent, kAttachTarget, false, 200ms); });
    ASSERT_FALSE(timed_out.ok());
    EXPECT_NE(timed_out.error().message.find("no answer from the container engine socket " +
                                             silent.string() + " within 200 ms"),
              std::string::npos);
    EXPECT_LT(took, 1500ms);

    const auto ssh = dir / "ssh.sock";
    FakeEngine banner(ssh, [](FakeConnection& connection, FakeEngine&) {
        connection.write("SSH-2.0-OpenSSH_9.2\r\n");
        connection.read_to_eof();
    });
    Result<AttachStream> refused = Error{};
    took = time_of([&] { refused = AttachStream::open(ssh, kAttachTarget, false, 5000ms); });
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, std::string("POST ") + kAttachEndpoint + ": " +
                                           ssh.string() +
                                           " did not answer as an HTTP container engine: "
                                           "\"SSH-2.0-OpenSSH_9.2\"");
    EXPECT_LT(took, 1000ms);

    const auto file = dir / "file";
    std::ofstream(file) << "x";
    auto not_socket = AttachStream::open(file, kAttachTarget, false, 2000ms);
    ASSERT_FALSE(not_socket.ok());
    EXPECT_EQ(not_socket.error().message, std::string("POST ") + kAttachEndpoint + ": " +
                                              file.string() +
                                              " is not a socket, so not a container engine");

    const auto garbage = dir / "garbage.sock";
    FakeEngine speaks(garbage, [](FakeConnection& connection, FakeEngine&) {
        connection.read_request();
        connection.write("220 smtp.example ESMTP\r\n\r\n");
    });
    auto not_http = AttachStream::open(garbage, kAttachTarget, false, 2000ms);
    ASSERT_FALSE(not_http.ok());
    EXPECT_NE(not_http.error().message.find("did not answer as an HTTP container engine: \"220 "),
              std::string::npos)
        << not_http.error().message;
}

}  // namespace
// --- bounds on what the engine sends --------------------------------------------------------

TEST(EngineAttach, ChunkSizeNear2To64EndsTheErrorBody) {
    // Before, the position wrapped round 2^64 to the same chunk and the decoding never ended.
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write(
                "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                "fffffffffffffffa\r\n{\"message\":\"boom\"}\n\r\n0\r\n\r\n");
            connection.read_to_eof();
        }
    });
    auto stream = AttachStream::open(socket, kAttachTarget, false, 5000ms);
    ASSERT_FALSE(stream.ok());
    // The chunk is cut short; what came of it is shown.
    EXPECT_EQ(stream.error().message,
              std::string("POST ") + kAttachEndpoint + ": 500 {\"message\":\"boom\"}");
}

TEST(EngineAttach, ChunkSizeBeyond2To64IsNotABody) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write(
                "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                "1ffffffffffffffff\r\nboom\r\n0\r\n\r\n");
            connection.read_to_eof();
        }
    });
    auto stream = AttachStream::open(socket, kAttachTarget, false, 5000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message,
              std::string("POST ") + kAttachEndpoint + ": 500 Internal Server Error");
}

TEST(EngineAttach, ContentLengthNear2To64ReadsOnlyWhatCame) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write(
                "HTTP/1.1 409 Conflict\r\nContent-Length: 18446744073709551615\r\n\r\n"
                "{\"message\":\"in use\"}");
        }  // and hangs up
    });
    auto stream = AttachStream::open(socket, kAttachTarget, false, 5000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message, std::string("POST ") + kAttachEndpoint + ": 409 in use");
}

TEST(EngineAttach, EndlessErrorBodyIsCutAndSaidSo) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    std::atomic<size_t> sent{0};
    FakeEngine engine(socket, [&sent](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write("HTTP/1.1 500 Internal Server Error\r\n\r\n");
            const std::string block(64 * 1024, 'x');
            // Until the client hangs up (or 64 MiB, so a broken client cannot hang the test).
            for (int i = 0; i < 1024 && connection.write_some(block); ++i) {
                sent += block.size();
            }
        }
    });
    auto stream = AttachStream::open(socket, kAttachTarget, false, 30000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_NE(stream.error().message.find("(the engine's error body was cut at 1 MiB)"),
              std::string::npos);
    EXPECT_LT(stream.error().message.size(), 1000u);
}

TEST(EngineHttp, EndlessErrorBodyIsCutAndSaidSo) {
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
    HttpUnixClient client = make_client(socket, 30000ms);
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

TEST(EngineHttp, ChunkSizeNear2To64IsAnErrorNotAHang) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write(
                "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                "fffffffffffffffa\r\nboom\r\n0\r\n\r\n");
        }  // and hangs up
    });
    HttpUnixClient client = make_client(socket, 30000ms);
    auto answer = client.send_json({"DELETE", "/v1.41/containers/x"});
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.error().message.rfind("DELETE /v1.41/containers/x: ", 0), 0u)
        << answer.error().message;
}

}  // namespace arunner::engine
