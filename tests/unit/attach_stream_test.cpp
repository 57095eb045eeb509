// src/engine/attach_stream.cpp: StreamDemux (the attach stream split back into stdout and
// stderr, whatever the chunking) and AttachStream (the attach request's upgrade against a fake
// engine on a unix socket, stdin and its half-close, and what an engine may send instead).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "engine/attach_stream.hpp"
#include "engine/http_unix_client.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_engine.hpp"
#include "support/temp_dir.hpp"

namespace arunner::engine {
namespace {

using namespace std::chrono_literals;
using testing::answering;
using testing::FakeConnection;
using testing::FakeEngine;
using testing::FakeRequest;
using testing::http_answer;

/// Everything the demux handed on, per stream, plus the order of stream switches.
struct Collected {
    std::string out;
    std::string err;
    std::vector<std::pair<OutputStream, std::string>> chunks;

    OutputChunkSink sink() {
        return [this](OutputStream stream, std::string_view bytes) {
            (stream == OutputStream::out ? out : err).append(bytes);
            if (!chunks.empty() && chunks.back().first == stream) {
                chunks.back().second.append(bytes);
            } else {
                chunks.emplace_back(stream, std::string(bytes));
            }
        };
    }
};

std::string sample_stream() {
    return encode_stream_frame(OutputStream::out, "hello\n") +
           encode_stream_frame(OutputStream::err, "warning: x\n") +
           encode_stream_frame(OutputStream::out, "") +  // an empty frame is legal
           encode_stream_frame(OutputStream::out, "world\n");
}

TEST(StreamDemux, WholeStreamAtOnce) {
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(sample_stream(), got.sink()).ok());
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_EQ(got.out, "hello\nworld\n");
    EXPECT_EQ(got.err, "warning: x\n");
}

TEST(StreamDemux, SplitAtEveryPoint) {
    const std::string stream = sample_stream();
    for (size_t split = 0; split <= stream.size(); ++split) {
        StreamDemux demux(false);
        Collected got;
        ASSERT_TRUE(demux.feed(std::string_view(stream).substr(0, split), got.sink()).ok());
        ASSERT_TRUE(demux.feed(std::string_view(stream).substr(split), got.sink()).ok());
        ASSERT_TRUE(demux.finish().ok()) << "split at " << split;
        EXPECT_EQ(got.out, "hello\nworld\n") << "split at " << split;
        EXPECT_EQ(got.err, "warning: x\n") << "split at " << split;
    }
}

TEST(StreamDemux, SplitAtEveryPairOfPoints) {
    const std::string stream = sample_stream();
    for (size_t a = 0; a <= stream.size(); ++a) {
        for (size_t b = a; b <= stream.size(); ++b) {
            StreamDemux demux(false);
            Collected got;
            std::string_view view(stream);
            ASSERT_TRUE(demux.feed(view.substr(0, a), got.sink()).ok());
            ASSERT_TRUE(demux.feed(view.substr(a, b - a), got.sink()).ok());
            ASSERT_TRUE(demux.feed(view.substr(b), got.sink()).ok());
            ASSERT_TRUE(demux.finish().ok());
            ASSERT_EQ(got.out, "hello\nworld\n") << a << "," << b;
            ASSERT_EQ(got.err, "warning: x\n") << a << "," << b;
        }
    }
}

TEST(StreamDemux, ByteAtATime) {
    const std::string stream = sample_stream();
    StreamDemux demux(false);
    Collected got;
    for (char c : stream) {
        ASSERT_TRUE(demux.feed(std::string_view(&c, 1), got.sink()).ok());
    }
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_EQ(got.out, "hello\nworld\n");
    EXPECT_EQ(got.err, "warning: x\n");
}

TEST(StreamDemux, InterleavingKeepsOrder) {
    std::string stream;
    std::vector<std::pair<OutputStream, std::string>> expected;
    for (int i = 0; i < 50; ++i) {
        OutputStream which = i % 3 == 0 ? OutputStream::err : OutputStream::out;
        std::string text = "line " + std::to_string(i) + "\n";
        stream += encode_stream_frame(which, text);
        if (!expected.empty() && expected.back().first == which) {
            expected.back().second += text;
        } else {
            expected.emplace_back(which, text);
        }
    }
    StreamDemux demux(false);
    Collected got;
    for (size_t at = 0; at < stream.size(); at += 7) {  // chunks that straddle frames
        ASSERT_TRUE(demux.feed(std::string_view(stream).substr(at, 7), got.sink()).ok());
    }
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_EQ(got.chunks, expected);
}

TEST(StreamDemux, LargeFrameIsPassedOnAsItArrives) {
    std::string payload(5 * 1024 * 1024 + 3, '\0');
    for (size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<char>(i * 131 % 251);
    }
    const std::string stream = encode_stream_frame(OutputStream::err, payload);
    ASSERT_EQ(static_cast<unsigned char>(stream[4]), 0x00);
    ASSERT_EQ(static_cast<unsigned char>(stream[5]), 0x50);  // big-endian length
    StreamDemux demux(false);
    std::string err;
    size_t calls = 0;
    size_t largest = 0;
    auto sink = [&](OutputStream which, std::string_view bytes) {
        ASSERT_EQ(which, OutputStream::err);
        err.append(bytes);
        ++calls;
        largest = std::max(largest, bytes.size());
    };
    const size_t chunk = 64 * 1024;
    for (size_t at = 0; at < stream.size(); at += chunk) {
        ASSERT_TRUE(demux.feed(std::string_view(stream).substr(at, chunk), sink).ok());
    }
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_EQ(err, payload);
    EXPECT_GT(calls, 1u);  // not collected into one piece first
    EXPECT_LE(largest, chunk);
}

TEST(StreamDemux, TruncatedHeaderAtEnd) {
    std::string stream = encode_stream_frame(OutputStream::out, "ok") +
                         encode_stream_frame(OutputStream::out, "cut").substr(0, 5);
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(stream, got.sink()).ok());
    EXPECT_EQ(got.out, "ok");
    auto finished = demux.finish();
    ASSERT_FALSE(finished.ok());
    EXPECT_EQ(finished.error().message, "attach stream ended inside a frame header (5 of 8 bytes)");
}

TEST(StreamDemux, TruncatedPayloadAtEnd) {
    std::string stream = encode_stream_frame(OutputStream::err, "abcdef").substr(0, 8 + 2);
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(stream, got.sink()).ok());
    EXPECT_EQ(got.err, "ab");  // what arrived is passed on
    auto finished = demux.finish();
    ASSERT_FALSE(finished.ok());
    EXPECT_EQ(finished.error().message, "attach stream ended 4 bytes before the end of a frame");
}

TEST(StreamDemux, EmptyStreamIsFine) {
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed("", got.sink()).ok());
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_TRUE(got.chunks.empty());
}

TEST(StreamDemux, TtyStreamIsRaw) {
    // With a tty the bytes are not framed, even when they look like a frame header.
    const std::string raw = std::string("\x01\x00\x00\x00\x00\x00\x00\x05", 8) + "hi\r\n";
    StreamDemux demux(true);
    Collected got;
    ASSERT_TRUE(demux.feed(raw.substr(0, 3), got.sink()).ok());
    ASSERT_TRUE(demux.feed(raw.substr(3), got.sink()).ok());
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_EQ(got.out, raw);
    EXPECT_TRUE(got.err.empty());
}

TEST(StreamDemux, UnknownStreamByteIsAnError) {
    // A tty stream read as frames, say: "hello" starts with 'h'.
    StreamDemux demux(false);
    Collected got;
    auto fed = demux.feed("hello world, no frames", got.sink());
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(fed.error().message,
              "attach stream: frame for unknown stream 104 (is the container's Tty right?)");
}

TEST(StreamDemux, EngineErrorFrame) {
    std::string frame = encode_stream_frame(OutputStream::out, "container is gone");
    frame[0] = '\3';
    StreamDemux demux(false);
    Collected got;
    auto fed = demux.feed(encode_stream_frame(OutputStream::out, "x") + frame, got.sink());
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(got.out, "x");
    EXPECT_EQ(fed.error().message,
              "attach stream: the container engine reported: container is gone");
}

TEST(StreamDemux, StdinStreamCountsAsStdout) {
    std::string frame = encode_stream_frame(OutputStream::out, "echo");
    frame[0] = '\0';
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(frame, got.sink()).ok());
    EXPECT_EQ(got.out, "echo");
}

TEST(AttachStream, OverASocketPairAsFakesBuildIt) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    util::UniqueFd engine_side(fds[1]);
    AttachStream stream(util::UniqueFd(fds[0]), encode_stream_frame(OutputStream::out, "early"),
                        false);
    ASSERT_TRUE(stream.has_pending());
    std::string later = encode_stream_frame(OutputStream::err, "late");
    ASSERT_EQ(::write(engine_side.get(), later.data(), later.size()),
              static_cast<ssize_t>(later.size()));
    engine_side.reset(::dup(engine_side.get()));  // still open: only the reads below end it
    ASSERT_TRUE(stream.write_stdin("in").ok());
    ASSERT_TRUE(stream.close_stdin().ok());
    char buffer[64];
    std::string got_stdin(buffer, static_cast<size_t>(::read(engine_side.get(), buffer, 64)));
    EXPECT_EQ(got_stdin, "in");
    EXPECT_EQ(::read(engine_side.get(), buffer, 64), 0);  // the half-close reached the engine
    ::shutdown(engine_side.get(), SHUT_WR);

    StreamDemux demux(stream.tty());
    Collected got;
    for (;;) {
        auto n = stream.read(buffer);
        ASSERT_TRUE(n.ok());
        if (*n == 0) {
            break;
        }
        ASSERT_TRUE(demux.feed(std::string_view(buffer, *n), got.sink()).ok());
    }
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_EQ(got.out, "early");  // bytes read with the headers come first
    EXPECT_EQ(got.err, "late");
}

}  // namespace
TEST(StreamDemux, HugeErrorFrameIsReportedAtItsCapNotItsEnd) {
    // An error frame announcing 4 GiB - 1 bytes, fed in small pieces: the text kept stays at the
    // cap and the error comes as soon as the cap is reached.
    std::string header("\x03\x00\x00\x00\xff\xff\xff\xff", 8);
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(header, got.sink()).ok());
    std::string piece(1000, 'e');
    Status fed;
    int pieces = 0;
    while (fed.ok() && pieces < 100) {
        fed = demux.feed(piece, got.sink());
        ++pieces;
    }
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(pieces, 5);  // 4096 bytes kept: the fifth piece reaches the cap
    EXPECT_LT(fed.error().message.size(), 4096u + 200u);
    EXPECT_NE(fed.error().message.find("[cut at 4096 bytes]"), std::string::npos);
    EXPECT_TRUE(got.chunks.empty());
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

TEST(AttachStream, UpgradeThenFramesThenStdinHalfClose) {
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
    auto stream = AttachStream::open(socket, kAttachTarget, false, 60000ms);
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

TEST(AttachStream, TtyEndsStdinWithCtrlD) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    std::promise<std::string> received;
    FakeEngine engine(socket, [&](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write("HTTP/1.1 101 UPGRADED\r\n\r\n");
            received.set_value(connection.read_to_eof());
        }
    });
    {
        auto stream = AttachStream::open(socket, kAttachTarget, true, 60000ms);
        ASSERT_TRUE(stream.ok()) << stream.error().message;
        EXPECT_FALSE(stream->has_pending());
        ASSERT_TRUE(stream->write_stdin("no newline").ok());
        ASSERT_TRUE(stream->close_stdin().ok());
        EXPECT_FALSE(stream->write_stdin("late").ok());
    }  // closing the socket ends the fake's read
    auto stdin_bytes = received.get_future();
    ASSERT_EQ(stdin_bytes.wait_for(60s), std::future_status::ready);
    EXPECT_EQ(stdin_bytes.get(), "no newline\x04\x04");
}

TEST(AttachStream, EngineErrorIsReported) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(
        socket, answering([](const FakeRequest&) {
            return http_answer(
                404, "Not Found",
                R"({"message":"no container with name or ID \"abc\" found: no such container"})");
        }));
    auto stream = AttachStream::open(socket, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message, std::string("POST ") + kAttachEndpoint +
                                          ": 404 no container with name or ID \"abc\" found: no "
                                          "such container");
}

TEST(AttachStream, ChunkedErrorBody) {
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
    auto stream = AttachStream::open(socket, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message, std::string("POST ") + kAttachEndpoint + ": 500 boom");
}

TEST(AttachStream, MissingSocketAndSilentPeers) {
    testing::TempDir dir;
    auto missing = AttachStream::open(dir / "none.sock", kAttachTarget, false, 60000ms);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message,
              std::string("POST ") + kAttachEndpoint + ": no container engine socket at " +
                  (dir / "none.sock").string() + " (No such file or directory)");

    const auto closing = dir / "closing.sock";
    FakeEngine closes(closing, [](FakeConnection&, FakeEngine&) {});
    auto closed = AttachStream::open(closing, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(closed.ok());
    EXPECT_NE(closed.error().message.find("closed the connection without an HTTP answer"),
              std::string::npos);

    const auto silent = dir / "silent.sock";
    FakeEngine holds(silent,
                     [](FakeConnection& connection, FakeEngine&) { connection.read_to_eof(); });
    // The timeout runs on a fake clock: it fires after exactly its length, at once.
    testing::FakeClock clock;
    const auto start = clock.now();
    auto timed_out = AttachStream::open(silent, kAttachTarget, false, 200ms, clock);
    ASSERT_FALSE(timed_out.ok());
    EXPECT_NE(timed_out.error().message.find("no answer from the container engine socket " +
                                             silent.string() + " within 200 ms"),
              std::string::npos);
    EXPECT_EQ(clock.now() - start, 200ms);

    // A peer that greets in another protocol and then waits is refused on its greeting: waiting
    // for the rest would end in the timeout's message instead.
    const auto ssh = dir / "ssh.sock";
    FakeEngine banner(ssh, [](FakeConnection& connection, FakeEngine&) {
        connection.write("SSH-2.0-OpenSSH_9.2\r\n");
        connection.read_to_eof();
    });
    auto refused = AttachStream::open(ssh, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, std::string("POST ") + kAttachEndpoint + ": " +
                                           ssh.string() +
                                           " did not answer as an HTTP container engine: "
                                           "\"SSH-2.0-OpenSSH_9.2\"");

    const auto file = dir / "file";
    std::ofstream(file) << "x";
    auto not_socket = AttachStream::open(file, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(not_socket.ok());
    EXPECT_EQ(not_socket.error().message, std::string("POST ") + kAttachEndpoint + ": " +
                                              file.string() +
                                              " is not a socket, so not a container engine");

    const auto garbage = dir / "garbage.sock";
    FakeEngine speaks(garbage, [](FakeConnection& connection, FakeEngine&) {
        connection.read_request();
        connection.write("220 smtp.example ESMTP\r\n\r\n");
    });
    auto not_http = AttachStream::open(garbage, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(not_http.ok());
    EXPECT_NE(not_http.error().message.find("did not answer as an HTTP container engine: \"220 "),
              std::string::npos)
        << not_http.error().message;
}

// --- bounds on what the engine sends --------------------------------------------------------

TEST(AttachStream, ChunkSizeNear2To64EndsTheErrorBody) {
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
    auto stream = AttachStream::open(socket, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(stream.ok());
    // The chunk is cut short; what came of it is shown.
    EXPECT_EQ(stream.error().message,
              std::string("POST ") + kAttachEndpoint + ": 500 {\"message\":\"boom\"}");
}

TEST(AttachStream, ChunkSizeBeyond2To64IsNotABody) {
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
    auto stream = AttachStream::open(socket, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message,
              std::string("POST ") + kAttachEndpoint + ": 500 Internal Server Error");
}

TEST(AttachStream, ContentLengthNear2To64ReadsOnlyWhatCame) {
    testing::TempDir dir;
    const auto socket = dir / "engine.sock";
    FakeEngine engine(socket, [](FakeConnection& connection, FakeEngine&) {
        if (connection.read_request()) {
            connection.write(
                "HTTP/1.1 409 Conflict\r\nContent-Length: 18446744073709551615\r\n\r\n"
                "{\"message\":\"in use\"}");
        }  // and hangs up
    });
    auto stream = AttachStream::open(socket, kAttachTarget, false, 60000ms);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().message, std::string("POST ") + kAttachEndpoint + ": 409 in use");
}

TEST(AttachStream, EndlessErrorBodyIsCutAndSaidSo) {
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

}  // namespace arunner::engine
