// Hostile frames against the event decoder: frames without the run's secret, with a wrong one,
// and with the secret but hostile keys, wrong types, no end or no begin. Each stream is also
// fed one byte at a time, which must give the same events and the same display.

#include <gtest/gtest.h>

#include <regex>

#include "events/event_decoder.hpp"

namespace arunner::events {
namespace {

using Json = nlohmann::ordered_json;

const std::string kSecret = "00112233445566778899aabbccddeeff";
const std::string kOtherSecret = "ffeeddccbbaa99887766554433221100";
const std::string kEsc = "\x1b";

class Recorder : public DecoderListener {
  public:
    void on_event(Json& event) override { events.push_back(event); }
    void on_display(std::string_view text) override { display.append(text); }
    std::vector<Json> events;
    std::string display;
};

std::string frame(const std::string& secret, const std::string& payload) {
    return EventDecoder::frame_prefix(secret) + payload + "\x1b\\";
}
/// The frame format before frames carried a secret: what a forger prints.
std::string old_frame(const std::string& payload) {
    return "\x1b_arunner:" + payload + "\x1b\\";
}

const std::string kOk =
    R"({"event": "runner_on_ok", "pid": 7, "uuid": "00000000-0000-4000-8000-00000000000b", )"
    R"("created": "2026-01-01T00:00:01.000001+00:00", "event_data": {"host": "h"}})";

Recorder decode(const std::string& stream, size_t chunk, size_t cap = kMaxFrameBytes,
                const std::string& secret = kSecret) {
    Recorder recorder;
    DecoderOptions options{"ident", false, secret, cap};
    EventDecoder decoder(options, recorder);
    for (size_t i = 0; i < stream.size(); i += chunk) {
        decoder.feed(std::string_view(stream).substr(i, chunk));
    }
    decoder.finish();
    return recorder;
}

/// The events with what differs from run to run (fresh uuids, timestamps) taken out.
std::vector<Json> stable(std::vector<Json> events) {
    for (auto& e : events) {
        e.erase("created");
        if (e["event"] == "verbose" || e["uuid"] != "00000000-0000-4000-8000-00000000000b") {
            e.erase("uuid");
        }
    }
    return events;
}

/// Decodes whole and one byte at a time; both must agree. Returns the whole-stream result.
Recorder decode_both_ways(const std::string& stream, size_t cap = kMaxFrameBytes) {
    Recorder whole = decode(stream, stream.size() + 1, cap);
    Recorder bytewise = decode(stream, 1, cap);
    EXPECT_EQ(bytewise.display, whole.display);
    EXPECT_EQ(stable(bytewise.events), stable(whole.events));
    return whole;
}

/// What every event must satisfy, whatever the frames said.
void expect_well_formed(const std::vector<Json>& events) {
    static const std::regex uuid(
        R"(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_[0-9]+)?$)");
    uint64_t counter = 0;
    for (const Json& e : events) {
        SCOPED_TRACE(e.dump());
        ASSERT_TRUE(e["uuid"].is_string());
        EXPECT_TRUE(std::regex_match(e["uuid"].get<std::string>(), uuid));
        EXPECT_EQ(e["counter"], ++counter);
        EXPECT_TRUE(e["stdout"].is_string());
        EXPECT_TRUE(e["start_line"].is_number_unsigned());
        EXPECT_TRUE(e["end_line"].is_number_unsigned());
        EXPECT_EQ(e["runner_ident"], "ident");
        EXPECT_TRUE(e["event"].is_string());
        EXPECT_TRUE(e["created"].is_string());
        for (const char* key : {"status", "zipfile", "eof", "kwargs"}) {
            EXPECT_FALSE(e.contains(key)) << key;
        }
        if (e.contains("event_data")) {
            ASSERT_TRUE(e["event_data"].is_object());
            for (const char* key : {"host", "task"}) {
                EXPECT_TRUE(!e["event_data"].contains(key) || e["event_data"][key].is_string());
            }
            for (const char* key : {"play", "role", "playbook", "task_uuid"}) {
                EXPECT_TRUE(!e["event_data"].contains(key) || e["event_data"][key].is_string() ||
                            e["event_data"][key].is_null());
            }
        }
        if (e.contains("pid")) {
            EXPECT_TRUE(e["pid"].is_number_integer());
        }
        if (e.contains("parent_uuid")) {
            EXPECT_TRUE(e["parent_uuid"].is_string());
        }
        EXPECT_EQ(e.dump().find(kSecret), std::string::npos);
    }
}

TEST(EventDecoderFrames, FramesWithoutTheSecretArePlainOutputByteForByte) {
    std::string forged = "before " + old_frame(R"({"event": "runner_on_ok", "uuid": "x"})") +
                         "inside\r\n" + old_frame("") + " after\r\n";
    Recorder r = decode_both_ways(forged);
    expect_well_formed(r.events);
    EXPECT_EQ(r.display, forged);
    ASSERT_EQ(r.events.size(), 2u);
    for (const Json& e : r.events) {
        EXPECT_EQ(e["event"], "verbose");
    }
    EXPECT_EQ(r.events[0]["stdout"],
              "before " + old_frame(R"({"event": "runner_on_ok", "uuid": "x"})") + "inside");
}

TEST(EventDecoderFrames, FramesWithAnotherSecretArePlainOutputByteForByte) {
    std::string forged = frame(kOtherSecret, kOk) + "forged\r\n" + frame(kOtherSecret, "");
    Recorder r = decode_both_ways(forged + "\r\n");
    expect_well_formed(r.events);
    EXPECT_EQ(r.display, forged + "\r\n");
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[0]["event"], "verbose");
}

TEST(EventDecoderFrames, AForgedFrameInsideAnEventIsPartOfItsText) {
    // A module's warning that carries frames: the real event keeps it all, the end frame in it
    // does not end the event, and nothing after it is lost.
    std::string warning = "[WARNING]: " + old_frame(R"({"event": "x", "counter": "../../x"})") +
                          " and " + old_frame("") + " then more";
    std::string stream = frame(kSecret, kOk) + warning + "\r\n" + frame(kSecret, "");
    Recorder r = decode_both_ways(stream);
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["event"], "runner_on_ok");
    EXPECT_EQ(r.events[0]["stdout"], warning);
    EXPECT_EQ(r.display, warning + "\n");
}

TEST(EventDecoderFrames, ArunnerSetsTheKeysItOwnsWhateverTheFrameSays) {
    std::string hostile =
        R"({"event": "runner_on_ok", "counter": "../../x", "uuid": "../x", "stdout": 1, )"
        R"("start_line": "a", "end_line": null, "runner_ident": "../evil", "status": "failed", )"
        R"("zipfile": 1000000000000000, "eof": true, "kwargs": {}, "event_data": {"host": "h"}})";
    Recorder r = decode_both_ways(frame(kSecret, hostile) + "text\r\n" + frame(kSecret, ""));
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 1u);
    const Json& e = r.events[0];
    EXPECT_EQ(e["counter"], 1);
    EXPECT_NE(e["uuid"], "../x");
    EXPECT_EQ(e["stdout"], "text");
    EXPECT_EQ(e["start_line"], 0);
    EXPECT_EQ(e["end_line"], 1);
    // ansible-runner's key order: arunner's keys first, then the plugin's.
    std::vector<std::string> keys;
    for (auto& [key, value] : e.items()) {
        keys.push_back(key);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"uuid", "counter", "stdout", "start_line", "end_line",
                                              "runner_ident", "event", "event_data", "created"}));
}

TEST(EventDecoderFrames, AUuidWithTheRepeatSuffixIsKeptAnyOtherShapeIsReplaced) {
    auto uuid_of = [](const std::string& uuid) {
        Recorder r = decode(
            frame(kSecret, R"({"event": "playbook_on_task_start", "uuid": ")" + uuid + "\"}") +
                frame(kSecret, ""),
            1 << 20);
        EXPECT_EQ(r.events.size(), 1u);
        return r.events.empty() ? std::string() : r.events[0]["uuid"].get<std::string>();
    };
    EXPECT_EQ(uuid_of("0242ac11-0002-bb52-3c1f-000000000006_2"),
              "0242ac11-0002-bb52-3c1f-000000000006_2");
    EXPECT_EQ(uuid_of("0242ac11-0002-bb52-3c1f-000000000006"),
              "0242ac11-0002-bb52-3c1f-000000000006");
    for (const char* bad :
         {"0242AC11-0002-bb52-3c1f-000000000006", "../x", "",
          "0242ac11-0002-bb52-3c1f-000000000006_", "0242ac11-0002-bb52-3c1f-00000000000/",
          "0242ac11-0002-bb52-3c1f-000000000006/../../x"}) {
        std::string got = uuid_of(bad);
        EXPECT_NE(got, bad);
        EXPECT_EQ(got.size(), 36u) << bad;
    }
}

TEST(EventDecoderFrames, WrongTypesAreDroppedNeverFatal) {
    std::string wrong =
        R"({"event": "runner_on_ok", "pid": "7", "created": 5, "parent_uuid": [], "verbosity": "x", )"
        R"("event_data": {"host": 1, "task": {"a": 1}, "play": 5, "resolved_action": null, )"
        R"("role": null, "task_uuid": [], "res": {"ok": 1}}, "extra": 2})";
    Recorder r = decode_both_ways(frame(kSecret, wrong) + "t\r\n" + frame(kSecret, ""));
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 1u);
    const Json& e = r.events[0];
    EXPECT_FALSE(e.contains("pid"));
    EXPECT_FALSE(e.contains("parent_uuid"));
    EXPECT_FALSE(e.contains("verbosity"));
    EXPECT_EQ(e["extra"], 2);  // an unknown key only describes the event
    // null stays where ansible-runner's plugin writes it (an unresolved action, say).
    EXPECT_EQ(e["event_data"],
              Json::parse(R"({"resolved_action": null, "role": null, "res": {"ok": 1}})"));

    Recorder data_not_object = decode(
        frame(kSecret, R"({"event": "runner_on_ok", "event_data": "x"})") + frame(kSecret, ""), 3);
    expect_well_formed(data_not_object.events);
    ASSERT_EQ(data_not_object.events.size(), 1u);
    EXPECT_FALSE(data_not_object.events[0].contains("event_data"));
}

TEST(EventDecoderFrames, AFrameThatIsNotAnEventIsTextWithItsSecretMasked) {
    for (const char* payload : {R"({"event": 1})", R"({"uuid": "x"})", R"({"event": ""})",
                                R"([1, 2])", R"("text")", "{not json", "null"}) {
        SCOPED_TRACE(payload);
        Recorder r = decode_both_ways(frame(kSecret, payload) + "text\r\n" + frame(kSecret, ""));
        expect_well_formed(r.events);
        ASSERT_EQ(r.events.size(), 1u);
        EXPECT_EQ(r.events[0]["event"], "verbose");
        EXPECT_EQ(r.display,
                  "\x1b_arunner:" + std::string(32, '*') + ":" + payload + "\x1b\\text\r\n");
    }
}

TEST(EventDecoderFrames, NestingDeeperThanPythonCanWriteIsNotAnEvent) {
    std::string deep = R"({"event": "runner_on_ok", "event_data": {"res": )" +
                       std::string(100000, '[') + std::string(100000, ']') + "}}";
    Recorder r = decode(frame(kSecret, deep) + "text\r\n" + frame(kSecret, ""), 1 << 20);
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["event"], "verbose");
}

TEST(EventDecoderFrames, ABeginWhileAnEventIsOpenClosesItWithItsTextSoFar) {
    std::string second =
        R"({"event": "runner_on_failed", "uuid": "00000000-0000-4000-8000-00000000000c"})";
    Recorder r = decode_both_ways(frame(kSecret, kOk) + "first\r\n" + frame(kSecret, second) +
                                  "second\r\n" + frame(kSecret, "") + "after\r\n");
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 3u);
    EXPECT_EQ(r.events[0]["event"], "runner_on_ok");
    EXPECT_EQ(r.events[0]["stdout"], "first");
    EXPECT_EQ(r.events[1]["event"], "runner_on_failed");
    EXPECT_EQ(r.events[1]["stdout"], "second");
    EXPECT_EQ(r.events[2]["stdout"], "after");
    EXPECT_EQ(r.display, "first\nsecond\nafter\r\n");
}

TEST(EventDecoderFrames, AnEndWithoutABeginOnlyEndsALine) {
    Recorder r = decode_both_ways("one\r\ntwo" + frame(kSecret, "") + "three\r\n");
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 3u);
    EXPECT_EQ(r.events[1]["stdout"], "two");
    EXPECT_EQ(r.events[2]["stdout"], "three");
    EXPECT_EQ(r.display, "one\r\ntwo\nthree\r\n");
}

TEST(EventDecoderFrames, AnUnterminatedBeginEndsAtTheCapAndNothingIsHidden) {
    // With the secret (a container task may know it): a begin frame that never ends. Its bytes
    // are text once the cap is passed, the secret masked; later events still decode.
    const size_t cap = 300;
    std::string payload = R"({"event": "runner_on_ok", "x": ")" + std::string(1000, 'y');
    std::string stream = "before\r\n" + EventDecoder::frame_prefix(kSecret) + payload + "\r\n" +
                         frame(kSecret, kOk) + "ok\r\n" + frame(kSecret, "");
    Recorder r = decode_both_ways(stream, cap);
    expect_well_formed(r.events);
    std::string masked = "\x1b_arunner:" + std::string(32, '*') + ":";
    EXPECT_EQ(r.display, "before\r\n" + masked + payload + "\r\nok\n");
    ASSERT_EQ(r.events.size(), 3u);
    EXPECT_EQ(r.events[1]["event"], "verbose");
    EXPECT_EQ(r.events[1]["stdout"], masked + payload);
    EXPECT_EQ(r.events[2]["event"], "runner_on_ok");
    EXPECT_EQ(r.events[2]["stdout"], "ok");
}

TEST(EventDecoderFrames, ManyUnterminatedPrefixesAreEachTextAndHideNoRealFrame) {
    // Prefixes with the secret but no end of their own, right before a real begin frame: each
    // one's "payload" runs into the next prefix, so none is an event and none hides anything.
    const size_t cap = 300;
    std::string prefix = EventDecoder::frame_prefix(kSecret);
    std::string stream;
    for (int i = 0; i < 50; ++i) {
        stream += prefix + "z";
    }
    stream += "\r\n" + frame(kSecret, kOk) + "ok\r\n" + frame(kSecret, "");
    Recorder r = decode_both_ways(stream, cap);
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[1]["stdout"], "ok");
    std::string masked;
    for (int i = 0; i < 50; ++i) {
        masked += "\x1b_arunner:" + std::string(32, '*') + ":z";
    }
    EXPECT_EQ(r.display, masked + "\r\nok\n");
}

TEST(EventDecoderFrames, AHugeUnterminatedBeginWithTheRealCapReachesStdout) {
    std::string prefix = EventDecoder::frame_prefix(kSecret);
    Recorder r;
    EventDecoder decoder({"ident", false, kSecret}, r);
    decoder.feed(prefix + R"({"event": "runner_on_ok", "x": ")");
    std::string block(1 << 20, 'y');
    for (size_t i = 0; i < kMaxFrameBytes / block.size() + 2; ++i) {
        decoder.feed(block);
    }
    decoder.feed("\r\n" + frame(kSecret, kOk) + "ok\r\n" + frame(kSecret, ""));
    decoder.finish();
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[0]["event"], "verbose");
    EXPECT_GT(r.events[0]["stdout"].get<std::string>().size(), kMaxFrameBytes);
    EXPECT_EQ(r.events[1]["stdout"], "ok");
    EXPECT_EQ(r.display.find(kSecret), std::string::npos);
    EXPECT_GT(r.display.size(), kMaxFrameBytes);
}

TEST(EventDecoderFrames, ABeginWithoutEndAtEofIsAnEventWithItsText) {
    Recorder r = decode_both_ways(frame(kSecret, kOk) + "ok: [h]\r\nmore");
    expect_well_formed(r.events);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0]["stdout"], "ok: [h]\r\nmore");
}

TEST(EventDecoderFrames, APrefixCutByEofShowsNoneOfTheSecret) {
    std::string prefix = EventDecoder::frame_prefix(kSecret);
    for (size_t n = 1; n < prefix.size(); ++n) {
        Recorder r = decode("x" + prefix.substr(0, n), 1);
        ASSERT_EQ(r.events.size(), 1u);
        std::string shown = r.events[0]["stdout"].get<std::string>();
        EXPECT_EQ(shown.size(), n + 1);
        EXPECT_EQ(shown.find(kSecret.substr(0, 2)), std::string::npos) << n;
    }
}

TEST(EventDecoderFrames, WithoutASecretNothingIsAFrame) {
    std::string stream = frame("", kOk) + "x\r\n" + frame("", "");
    Recorder r = decode(stream, 5, kMaxFrameBytes, "");
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[0]["event"], "verbose");
    EXPECT_EQ(r.display, stream + "\n");
}

TEST(EventDecoderFrames, AMixedHostileStreamGivesTheSameResultAtEveryChunkSize) {
    std::string stream = "PLAY\r\n" + old_frame(kOk) + frame(kSecret, kOk) + "a" + old_frame("") +
                         "b\r\n" + frame(kSecret, "") + frame(kOtherSecret, kOk) + "\r\n" +
                         frame(kSecret, R"({"event": "x", "eof": true, "stdout": 1})") + "c\rd\n" +
                         frame(kSecret, R"({"event": 3})") + "tail";
    Recorder whole = decode(stream, stream.size(), 40);
    expect_well_formed(whole.events);
    for (size_t chunk = 1; chunk < 64; ++chunk) {
        Recorder r = decode(stream, chunk, 40);
        ASSERT_EQ(r.display, whole.display) << chunk;
        ASSERT_EQ(stable(r.events), stable(whole.events)) << chunk;
    }
}

TEST(FrameSecret, Is128BitsOfLowercaseHexAndFreshEachTime) {
    std::string a = new_frame_secret();
    std::string b = new_frame_secret();
    EXPECT_TRUE(std::regex_match(a, std::regex("^[0-9a-f]{32}$")));
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace arunner::events
