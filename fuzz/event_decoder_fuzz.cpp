// Fuzzes the event decoder (src/events/event_decoder.hpp) with what a child prints, which a
// playbook, a module or a managed host may control: frames and all.
//
// The input is the output stream, minus its last two bytes, which choose the display mode, the
// frame size cap and the chunk sizes it is fed in. Frames carry the fixed secret kSecret (the
// dictionary and the seed corpus use it). It is decoded twice, in one piece and in those chunks,
// and checks:
// - whatever a frame says, every event has the counter that comes next, a string stdout, this
//   run's runner_ident, line numbers that follow on from the previous event's, and no `eof`,
//   `status` or `zipfile` key (an event never passes for a wire line);
// - every newline outside a frame is counted once: the last end_line is their number;
// - what is displayed for an event is its stdout and a newline (or the JSON line in JSON mode),
//   or for a raw output line that line; nothing is displayed after the last event;
// - chunking changes nothing: the same events (but for random uuids and times), displays and
//   exit frames (`exit:<0-255>`, each reported with its code).

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/event_decoder.hpp"
#include "fuzz_check.hpp"
#include "util/python_json.hpp"

namespace {

using arunner::events::DecoderListener;
using arunner::events::DecoderOptions;
using arunner::events::EventDecoder;
using Json = nlohmann::ordered_json;

constexpr std::string_view kIdent = "fuzz-ident";
constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr size_t kSmallFrameCap = 96;  // some runs cap frames this small, to reach the cap

/// What a decoder delivered: each event with the text displayed just before it.
class Recorder : public DecoderListener {
  public:
    void on_event(Json& event) override {
        events.push_back(std::move(event));
        displays.push_back(std::move(pending));
        pending.clear();
    }
    void on_display(std::string_view text) override { pending.append(text); }
    void on_exit(int code) override { exits.push_back(code); }

    std::vector<Json> events;
    std::vector<int> exits;  // the codes of exit frames, in order
    std::vector<std::string> displays;
    std::string pending;  // displayed after the last event: must stay empty
};

/// An exit frame's payload: "exit:" and 1-3 digits up to 255.
bool is_exit_payload(std::string_view payload) {
    if (!payload.starts_with("exit:")) {
        return false;
    }
    std::string_view digits = payload.substr(5);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    return std::stoi(std::string(digits)) <= 255;
}

/// Whether a frame's payload makes it a frame (see newlines_outside_frames).
bool is_payload(std::string_view payload) {
    if (payload.empty() || is_exit_payload(payload)) {
        return true;
    }
    if (payload.find('\x1b') != std::string_view::npos) {
        return false;
    }
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < payload.size(); ++i) {
        const char c = payload[i];
        if (in_string) {
            i += c == '\\' ? 1 : 0;
            in_string = c != '"';
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > 2000) {
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    const Json begin = Json::parse(payload, nullptr, false);
    if (!begin.is_object()) {
        return false;
    }
    auto name = begin.find("event");
    return name != begin.end() && name->is_string() && !name->get_ref<const std::string&>().empty();
}

/// The reference framing: a frame is the run's prefix, then the first end marker after it,
/// which must start within `max_frame_bytes` of the prefix, around a payload that is empty (an
/// end frame), an exit frame's "exit:<0-255>", or an event's begin dict: a JSON object with a
/// non-empty string `event`, no ESC and at most 2,000 levels of nesting. Anything else is text.
/// Returns the newlines in the text.
uint64_t newlines_outside_frames(std::string_view stream, size_t max_frame_bytes) {
    const std::string prefix = EventDecoder::frame_prefix(kSecret);
    auto newlines = [](std::string_view text) {
        return static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
    };
    uint64_t count = 0;
    size_t text_from = 0;
    for (size_t p = stream.find(prefix); p != std::string_view::npos;) {
        size_t at = p + prefix.size();
        size_t end = stream.find(EventDecoder::kFrameEnd, at);
        if (end == std::string_view::npos) {
            break;  // then no later prefix starts a frame either
        }
        if (end - p < max_frame_bytes && is_payload(stream.substr(at, end - at))) {
            count += newlines(stream.substr(text_from, p - text_from));
            text_from = end + EventDecoder::kFrameEnd.size();
            p = stream.find(prefix, text_from);
        } else {
            p = stream.find(prefix, at);
        }
    }
    return count + newlines(stream.substr(text_from));
}

bool only_line_ends(std::string_view s) {
    return s.find_first_not_of("\r\n") == std::string_view::npos;
}

void check_display(const Json& event, const std::string& shown, bool json_mode) {
    const std::string& out = event["stdout"].get_ref<const std::string&>();
    bool verbose = event.contains("event") && event["event"] == "verbose";
    // A raw output line: shown as printed, so its stdout and the line ends that were stripped
    // (none when the line ends with another separator, such as \f).
    bool raw_line = verbose && !shown.empty() && shown.compare(0, out.size(), out) == 0 &&
                    only_line_ends(std::string_view(shown).substr(out.size()));
    if (json_mode) {
        std::string line;
        arunner::util::python_json_dump(event, line);
        line += '\n';
        FUZZ_CHECK(shown == line || raw_line, "JSON mode displays the event's JSON line");
    } else {
        bool nothing = shown.empty() && (out.empty() || out == "{}");
        FUZZ_CHECK(nothing || shown == out + "\n" || raw_line,
                   "an event displays its stdout and a newline");
    }
}

void check_event(const Json& event, uint64_t index, uint64_t& line) {
    FUZZ_CHECK(event.is_object(), "an event is an object");
    FUZZ_CHECK(event.contains("counter") && event["counter"].is_number_unsigned() &&
                   event["counter"].get<uint64_t>() == index + 1,
               "every event has the next counter");
    FUZZ_CHECK(event.contains("stdout") && event["stdout"].is_string(),
               "every event has a string stdout");
    FUZZ_CHECK(event.contains("runner_ident") && event["runner_ident"] == kIdent,
               "every event has the run's runner_ident");
    FUZZ_CHECK(event.contains("start_line") && event["start_line"].is_number_unsigned() &&
                   event["start_line"].get<uint64_t>() == line,
               "an event starts on the line where the previous one ended");
    FUZZ_CHECK(event.contains("end_line") && event["end_line"].is_number_unsigned() &&
                   event["end_line"].get<uint64_t>() >= line,
               "an event ends on or after its start line");
    line = event["end_line"].get<uint64_t>();
    FUZZ_CHECK(event.contains("created") && event.contains("uuid"),
               "every event has a uuid and a creation time");
    for (const char* key : {"eof", "status", "zipfile"}) {
        FUZZ_CHECK(!event.contains(key), "no event carries a stream control key");
    }
}

Recorder decode(std::string_view stream, bool json_mode, size_t max_frame_bytes, size_t max_chunk,
                uint64_t seed) {
    Recorder recorder;
    DecoderOptions options;
    options.runner_ident = kIdent;
    options.json_mode = json_mode;
    options.frame_secret = kSecret;
    options.max_frame_bytes = max_frame_bytes;
    EventDecoder decoder(std::move(options), recorder);
    arunner::fuzz::Choices choices(seed);
    size_t at = 0;
    while (at < stream.size()) {
        size_t n =
            std::min(stream.size() - at, max_chunk == 0 ? stream.size() : choices.up_to(max_chunk));
        decoder.feed(stream.substr(at, n));
        at += n;
    }
    decoder.finish();
    FUZZ_CHECK(decoder.counter() == recorder.events.size(), "counter() counts the events");

    uint64_t line = 0;
    for (size_t i = 0; i < recorder.events.size(); ++i) {
        check_event(recorder.events[i], i, line);
        check_display(recorder.events[i], recorder.displays[i], json_mode);
    }
    FUZZ_CHECK(recorder.pending.empty(), "nothing is displayed after the last event");
    FUZZ_CHECK(line == newlines_outside_frames(stream, max_frame_bytes),
               "every newline outside a frame is counted once");
    return recorder;
}

/// An event without what differs from run to run: generated uuids and creation times.
Json stable(Json event) {
    event.erase("uuid");
    event.erase("created");
    return event;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider input(data, size);
    // Taken from the end, so a seed that is a plain output stream only loses its last bytes.
    const auto mode = input.ConsumeIntegral<uint8_t>();
    const auto seed = input.ConsumeIntegral<uint8_t>();
    const std::string stream = input.ConsumeRemainingBytesAsString();
    const bool json_mode = (mode & 1) != 0;
    // Mostly small chunks (a frame marker cut anywhere), sometimes larger ones.
    const size_t max_chunk = (mode & 2) != 0 ? 4096 : 1 + (mode >> 2) % 16;
    const size_t max_frame_bytes =
        (mode & 0x40) != 0 ? kSmallFrameCap : arunner::events::kMaxFrameBytes;

    Recorder whole = decode(stream, json_mode, max_frame_bytes, 0, 0);
    Recorder chunked = decode(stream, json_mode, max_frame_bytes, max_chunk, seed);
    FUZZ_CHECK(whole.events.size() == chunked.events.size(),
               "chunking does not change the number of events");
    FUZZ_CHECK(whole.exits == chunked.exits, "chunking does not change the exit frames found");
    for (int code : whole.exits) {
        FUZZ_CHECK(code >= 0 && code <= 255, "an exit code is 0-255");
    }
    for (size_t i = 0; i < whole.events.size(); ++i) {
        FUZZ_CHECK(stable(whole.events[i]) == stable(chunked.events[i]),
                   "chunking does not change an event");
        if (!json_mode) {
            // (JSON lines hold the generated uuids and times, so they are not compared.)
            FUZZ_CHECK(whole.displays[i] == chunked.displays[i],
                       "chunking does not change what is displayed");
        }
    }
    return 0;
}
