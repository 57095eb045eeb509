#include "events/event_decoder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace arunner::events {
namespace {

class Recorder : public DecoderListener {
  public:
    void on_event(nlohmann::ordered_json& event) override { events.push_back(event); }
    void on_display(std::string_view text) override { display.append(text); }
    std::vector<nlohmann::ordered_json> events;
    std::string display;
};

const std::string kSecret = "0123456789abcdef0123456789abcdef";

std::string begin(const std::string& json, const std::string& secret = kSecret) {
    return EventDecoder::frame_prefix(secret) + json + std::string(EventDecoder::kFrameEnd);
}
std::string end_frame(const std::string& secret = kSecret) {
    return EventDecoder::frame_prefix(secret) + std::string(EventDecoder::kFrameEnd);
}

const std::string kTaskStart =
    R"({"event": "playbook_on_task_start", "pid": 7, "uuid": "00000000-0000-4000-8000-00000000000a", "created": "2026-01-01T00:00:00.000001+00:00", "parent_uuid": "00000000-0000-4000-8000-000000000009", "event_data": {"task": "t"}})";
const std::string kOk =
    R"({"event": "runner_on_ok", "pid": 7, "uuid": "00000000-0000-4000-8000-00000000000b", "created": "2026-01-01T00:00:01.000001+00:00", "parent_uuid": "00000000-0000-4000-8000-00000000000a", "event_data": {"host": "h"}})";

/// A realistic stream: a verbose line, two events, a trailing line.
std::string sample_stream() {
    return "Using /etc/ansible.cfg\r\n" + begin(kTaskStart) + "\r\nTASK [t] ****\r\n" +
           end_frame() + begin(kOk) + "ok: [h]\r\n" + end_frame() + "bye\r\n";
}

Recorder decode(const std::string& stream, size_t chunk, bool json_mode = false) {
    Recorder recorder;
    EventDecoder decoder({"ident-1", json_mode, kSecret}, recorder);
    for (size_t i = 0; i < stream.size(); i += chunk) {
        decoder.feed(std::string_view(stream).substr(i, chunk));
    }
    decoder.finish();
    return recorder;
}

TEST(EventDecoder, CompletesEventsInAnsibleRunnersKeyOrder) {
    Recorder r = decode(sample_stream(), 1 << 20);
    ASSERT_EQ(r.events.size(), 4u);
    std::vector<std::string> keys;
    for (auto& [key, value] : r.events[1].items()) {
        keys.push_back(key);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"uuid", "counter", "stdout", "start_line", "end_line",
                                              "runner_ident", "event", "pid", "created",
                                              "parent_uuid", "event_data"}));
    EXPECT_EQ(r.events[1]["stdout"], "\r\nTASK [t] ****");
    EXPECT_EQ(r.events[1]["runner_ident"], "ident-1");
    EXPECT_EQ(r.events[1]["counter"], 2);
    std::vector<std::string> verbose_keys;
    for (auto& [key, value] : r.events[0].items()) {
        verbose_keys.push_back(key);
    }
    EXPECT_EQ(verbose_keys,
              (std::vector<std::string>{"event", "uuid", "counter", "stdout", "start_line",
                                        "end_line", "runner_ident", "created"}));
    EXPECT_EQ(r.events[0]["event"], "verbose");
    EXPECT_EQ(r.events[0]["stdout"], "Using /etc/ansible.cfg");
    EXPECT_EQ(r.events[3]["stdout"], "bye");
}

TEST(EventDecoder, LineNumbersCountNewlinesAndNeverGoBack) {
    Recorder r = decode(sample_stream(), 1 << 20);
    ASSERT_EQ(r.events.size(), 4u);
    int expected[][2] = {{0, 1}, {1, 3}, {3, 4}, {4, 5}};
    for (size_t i = 0; i < r.events.size(); ++i) {
        EXPECT_EQ(r.events[i]["start_line"], expected[i][0]) << i;
        EXPECT_EQ(r.events[i]["end_line"], expected[i][1]) << i;
        EXPECT_EQ(r.events[i]["counter"], i + 1);
    }
}

TEST(EventDecoder, DisplayHoldsTheTextWithoutFraming) {
    Recorder r = decode(sample_stream(), 1 << 20);
    // Lines outside events are displayed as printed; an event's text loses its trailing CR/LF
    // and gets one "\n", as ansible-runner writes ART/stdout.
    EXPECT_EQ(r.display, "Using /etc/ansible.cfg\r\n\r\nTASK [t] ****\nok: [h]\nbye\r\n");
    EXPECT_EQ(r.display.find('\x1b'), std::string::npos);
}

TEST(EventDecoder, SameResultWhateverTheChunkBoundaries) {
    std::string stream = sample_stream();
    Recorder whole = decode(stream, stream.size());
    for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
        Recorder r = decode(stream, chunk);
        ASSERT_EQ(r.display, whole.display) << "chunk " << chunk;
        ASSERT_EQ(r.events.size(), whole.events.size()) << "chunk " << chunk;
        for (size_t i = 0; i < r.events.size(); ++i) {
            nlohmann::ordered_json a = r.events[i];
            nlohmann::ordered_json b = whole.events[i];
            for (auto* e : {&a, &b}) {
                if ((*e)["event"] == "verbose") {
                    e->erase("uuid");
                    e->erase("created");
                }
            }
            ASSERT_EQ(a, b) << "chunk " << chunk << " event " << i;
        }
    }
}

TEST(EventDecoder, SplitAtEveryByteOfAFrame) {
    std::string stream = begin(kOk) + "ok: [h]\r\n" + end_frame();
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
        Recorder r;
        EventDecoder decoder({"i", false, kSecret}, r);
        decoder.feed(std::string_view(stream).substr(0, cut));
        decoder.feed(std::string_view(stream).substr(cut));
        decoder.finish();
        ASSERT_EQ(r.events.size(), 1u) << cut;
        EXPECT_EQ(r.events[0]["event"], "runner_on_ok");
        EXPECT_EQ(r.events[0]["stdout"], "ok: [h]");
        EXPECT_EQ(r.display, "ok: [h]\n");
    }
}

TEST(EventDecoder, CrLfAndBareCrSplitVerboseLinesLikePython) {
    Recorder r = decode("a\r\nb\rc\nd", 3);
    ASSERT_EQ(r.events.size(), 4u);
    EXPECT_EQ(r.events[0]["stdout"], "a");
    EXPECT_EQ(r.events[1]["stdout"], "b");
    EXPECT_EQ(r.events[2]["stdout"], "c");
    EXPECT_EQ(r.events[3]["stdout"], "d");
    EXPECT_EQ(r.events[1]["start_line"], 1);
    EXPECT_EQ(r.events[1]["end_line"], 1);  // "b\r" has no \n
    EXPECT_EQ(r.display, "a\r\nb\rc\nd\n");
}

// ansible-runner's test_large_stdout_blob. Its speed is measured by bench/event_decoder_bench.cpp
// (a timed assertion here would fail under the sanitizers, not because of the decoder).
// Python's splitlines() also ends a line at \v, \f, \r, \x1c-\x1e, NEL, LS and PS. As in
// ansible-runner's OutputEventFilter, such a line is shown as printed when a `\n` follows it,
// and like an event's text (with a newline) when none does, however the output is read
// (fuzz/crashes-found/event_decoder_fuzz-display-chunking.bin).
TEST(EventDecoder, LinesEndingInOtherSeparatorsDisplayTheSameWhateverTheChunks) {
    const std::string ok_display = "ok: [h]\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {std::string("\n\v\0", 3), std::string("\n\v\n\0\n", 5)},  // the reproducer
        {"a\vb\n" + begin(kOk) + "ok: [h]" + end_frame(), "a\vb\n" + ok_display},
        {"a\fb\x1c\n" + begin(kOk) + "ok: [h]" + end_frame(), "a\fb\x1c\n" + ok_display},
        {"a\xc2\x85"
         "b\xe2\x80\xa8"
         "c\n" +
             begin(kOk) + "ok: [h]" + end_frame(),
         "a\xc2\x85"
         "b\xe2\x80\xa8"
         "c\n" +
             ok_display},
        {"a\vb" + begin(kOk) + "ok: [h]" + end_frame(), "a\v\nb\n" + ok_display},
        {"a\n\x1d" + begin(kOk) + "ok: [h]" + end_frame() + "z\n",
         "a\n\x1d\n" + ok_display + "z\n"},
        {"x\ry\v", "x\ny\v\n"},
        {"x\ry\v\n", "x\ry\v\n"},
    };
    for (const auto& [stream, shown] : cases) {
        for (size_t chunk : {size_t{1} << 20, size_t{1}, size_t{2}, size_t{3}, size_t{7}}) {
            SCOPED_TRACE(testing::PrintToString(stream) + " in chunks of " + std::to_string(chunk));
            EXPECT_EQ(decode(stream, chunk).display, shown);
        }
    }
}

TEST(EventDecoder, TenMebibyteLineWithoutNewline) {
    std::string big(10 << 20, 'x');
    Recorder r;
    EventDecoder decoder({"i", false, kSecret}, r);
    for (size_t i = 0; i < big.size(); i += 4096) {
        decoder.feed(std::string_view(big).substr(i, 4096));
    }
    EXPECT_TRUE(r.events.empty()) << "no event before the line ends";
    decoder.finish();
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["stdout"].get<std::string>().size(), big.size());
    EXPECT_EQ(r.display.size(), big.size() + 1);
}

TEST(EventDecoder, FrameCutByEofIsTextWithItsSecretMasked) {
    std::string cut = EventDecoder::frame_prefix(kSecret) + R"({"event": "runner_on_ok", "uu)";
    std::string stream = begin(kOk) + "ok: [h]\r\n" + cut;
    Recorder r = decode(stream, 7);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["event"], "runner_on_ok");
    // Nothing is hidden: the cut frame is the event's text, its secret masked.
    std::string masked =
        "\x1b_arunner:" + std::string(32, '*') + R"(:{"event": "runner_on_ok", "uu)";
    EXPECT_EQ(r.events[0]["stdout"], "ok: [h]\r\n" + masked);
    EXPECT_EQ(r.display.find(kSecret), std::string::npos);
}

TEST(EventDecoder, EventWithoutEndFrameStillGetsItsText) {
    Recorder r = decode(begin(kOk) + "ok: [h]\r\n", 5);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["stdout"], "ok: [h]");
    EXPECT_EQ(r.display, "ok: [h]\n");
}

TEST(EventDecoder, UnparsableBeginFrameIsText) {
    Recorder r = decode(begin("{not json") + "text\r\n" + end_frame(), 4);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["event"], "verbose");
    EXPECT_EQ(r.events[0]["stdout"],
              "\x1b_arunner:" + std::string(32, '*') + ":{not json\x1b\\text");
}

TEST(EventDecoder, ForeignEscapeSequencesAreText) {
    std::string colored = "\x1b[0;32mok\x1b[0m\r\n\x1b_other\x1b\\\r\n";
    Recorder r = decode(colored, 2);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[0]["stdout"], "\x1b[0;32mok\x1b[0m");
    EXPECT_EQ(r.display, colored);
}

TEST(EventDecoder, JsonModeDisplaysEventsAsPythonJsonLines) {
    Recorder r = decode(begin(kOk) + "ok: [h]\r\n" + end_frame(), 1 << 20, true);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(
        r.display.rfind("{\"uuid\": \"00000000-0000-4000-8000-00000000000b\", \"counter\": 1, "
                        "\"stdout\": \"ok: [h]\", ",
                        0),
        0u)
        << r.display;
    EXPECT_EQ(r.display.back(), '\n');
}

TEST(EventDecoder, InvalidUtf8BecomesReplacementCharacters) {
    Recorder r = decode("caf\xC3\r\n", 100);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["stdout"], "caf\xEF\xBF\xBD");
}

TEST(UtcNowIso, HasMicrosecondsAndOffset) {
    std::string now = utc_now_iso();
    EXPECT_EQ(now.substr(now.size() - 6), "+00:00");
    EXPECT_EQ(now[10], 'T');
}

}  // namespace
}  // namespace arunner::events
