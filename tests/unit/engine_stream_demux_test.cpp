// StreamDemux (src/engine/attach_stream.cpp): the attach stream split back into stdout and
// stderr, whatever the chunking.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "engine/attach_stream.hpp"

namespace arunner::engine {
namespace {

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

TEST(EngineStreamDemux, WholeStreamAtOnce) {
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(sample_stream(), got.sink()).ok());
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_EQ(got.out, "hello\nworld\n");
    EXPECT_EQ(got.err, "warning: x\n");
}

TEST(EngineStreamDemux, SplitAtEveryPoint) {
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

TEST(EngineStreamDemux, SplitAtEveryPairOfPoints) {
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

TEST(EngineStreamDemux, ByteAtATime) {
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

TEST(EngineStreamDemux, InterleavingKeepsOrder) {
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

TEST(EngineStreamDemux, LargeFrameIsPassedOnAsItArrives) {
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

TEST(EngineStreamDemux, TruncatedHeaderAtEnd) {
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

TEST(EngineStreamDemux, TruncatedPayloadAtEnd) {
    std::string stream = encode_stream_frame(OutputStream::err, "abcdef").substr(0, 8 + 2);
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(stream, got.sink()).ok());
    EXPECT_EQ(got.err, "ab");  // what arrived is passed on
    auto finished = demux.finish();
    ASSERT_FALSE(finished.ok());
    EXPECT_EQ(finished.error().message, "attach stream ended 4 bytes before the end of a frame");
}

TEST(EngineStreamDemux, EmptyStreamIsFine) {
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed("", got.sink()).ok());
    EXPECT_TRUE(demux.finish().ok());
    EXPECT_TRUE(got.chunks.empty());
}

TEST(EngineStreamDemux, TtyStreamIsRaw) {
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

TEST(EngineStreamDemux, UnknownStreamByteIsAnError) {
    // A tty stream read as frames, say: "hello" starts with 'h'.
    StreamDemux demux(false);
    Collected got;
    auto fed = demux.feed("hello world, no frames", got.sink());
    ASSERT_FALSE(fed.ok());
    EXPECT_EQ(fed.error().message,
              "attach stream: frame for unknown stream 104 (is the container's Tty right?)");
}

TEST(EngineStreamDemux, EngineErrorFrame) {
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

TEST(EngineStreamDemux, StdinStreamCountsAsStdout) {
    std::string frame = encode_stream_frame(OutputStream::out, "echo");
    frame[0] = '\0';
    StreamDemux demux(false);
    Collected got;
    ASSERT_TRUE(demux.feed(frame, got.sink()).ok());
    EXPECT_EQ(got.out, "echo");
}

TEST(EngineAttachStream, OverASocketPairAsFakesBuildIt) {
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
TEST(EngineStreamDemux, HugeErrorFrameIsReportedAtItsCapNotItsEnd) {
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

}  // namespace arunner::engine
