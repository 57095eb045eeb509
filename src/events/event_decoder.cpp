#include "events/event_decoder.hpp"

#include <sys/random.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <optional>
#include <random>

#include "util/python_json.hpp"
#include "util/text.hpp"
#include "util/uuid.hpp"

namespace arunner::events {
namespace {

using Json = nlohmann::ordered_json;

// Handled bytes are dropped from the front of the buffer once they are this many (and at least
// as many as the bytes kept, so that each byte is moved at most once).
constexpr size_t kCompactThreshold = size_t{1} << 20;
// Event text shorter than this is displayed together with its newline, in one piece.
constexpr size_t kJoinDisplayBelow = size_t{64} << 10;
// A begin dict nested deeper than this is not an event: the event file writer recurses per
// level. Python's json.dumps cannot go past its recursion limit (1000), so the plugin never does.
constexpr size_t kMaxNesting = 2000;

std::string_view strip_trailing_newlines(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

/// Keys arunner sets on every event; what a frame says for them is ignored.
bool owned_key(std::string_view key) {
    return key == "uuid" || key == "counter" || key == "stdout" || key == "start_line" ||
           key == "end_line" || key == "runner_ident";
}

/// Keys the transmit/worker/process wire reads to tell what a line is: never an event's.
bool wire_key(std::string_view key) {
    return key == "status" || key == "zipfile" || key == "eof" || key == "kwargs";
}

/// Whether an event_data value has the type readers expect: `host` and `task` (which
/// Runner::host_events, the examples and users read with value(key, "")) are strings; the other
/// names listed are strings or null (ansible-runner's plugin writes null for an unresolved
/// action, for one).
bool expected_data_type(std::string_view key, const Json& value) {
    if (key == "host" || key == "task") {
        return value.is_string();
    }
    static constexpr std::string_view kStrings[] = {
        "remote_addr", "task_uuid",     "task_action", "resolved_action",
        "task_path",   "play",          "play_uuid",   "play_pattern",
        "playbook",    "playbook_uuid", "role",        "resolved_role"};
    if (std::find(std::begin(kStrings), std::end(kStrings), key) != std::end(kStrings)) {
        return value.is_string() || value.is_null();
    }
    return true;
}

/// Whether a top-level value from the plugin has the type readers expect.
bool expected_type(std::string_view key, const Json& value) {
    if (key == "event" || key == "created" || key == "parent_uuid") {
        return value.is_string();
    }
    if (key == "pid" || key == "verbosity" || key == "job_id" || key == "ad_hoc_command_id" ||
        key == "project_update_id") {
        return value.is_number_integer();
    }
    if (key == "event_data") {
        return value.is_object();
    }
    return true;
}

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/// A uuid the plugin may give an event: lowercase 8-4-4-4-12 hex, optionally `_<n>` (the
/// plugin numbers a task's or play's uuid when the free strategy or serial repeats it, as
/// ansible-runner's plugin does). Anything else could make a bad file name.
bool is_event_uuid(std::string_view s) {
    if (s.size() < 36) {
        return false;
    }
    for (size_t i = 0; i < 36; ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_lower_hex(s[i])) {
            return false;
        }
    }
    if (s.size() == 36) {
        return true;
    }
    std::string_view suffix = s.substr(36);
    return suffix.size() >= 2 && suffix.size() <= 10 && suffix[0] == '_' &&
           std::all_of(suffix.begin() + 1, suffix.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

/// False when `json` holds an ESC (which the plugin's ASCII JSON never does; so no frame's
/// payload spans another frame's start) or nests arrays and objects deeper than kMaxNesting.
/// Stops at the first ESC, so looking at payloads that each run into the next frame is linear.
bool plausible_payload(std::string_view json) {
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < json.size(); ++i) {
        char c = json[i];
        if (c == '\x1b') {
            return false;
        }
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxNesting) {
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return true;
}

/// The begin dict a frame's payload holds, if it describes an event: a JSON object whose
/// `event` is a non-empty string.
std::optional<Json> parse_begin(std::string_view payload) {
    if (!plausible_payload(payload)) {
        return std::nullopt;
    }
    Json begin = Json::parse(payload, nullptr, false);
    if (!begin.is_object()) {
        return std::nullopt;
    }
    auto name = begin.find("event");
    if (name == begin.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
        return std::nullopt;
    }
    return begin;
}

/// The code of an exit frame's payload, "exit:" and a decimal 0-255; empty for anything else.
std::optional<int> exit_code_of(std::string_view payload) {
    constexpr std::string_view kExit = "exit:";
    if (!payload.starts_with(kExit)) {
        return std::nullopt;
    }
    payload.remove_prefix(kExit.size());
    if (payload.empty() || payload.size() > 3) {
        return std::nullopt;
    }
    int code = 0;
    for (char ch : payload) {
        if (ch < '0' || ch > '9') {
            return std::nullopt;
        }
        code = code * 10 + (ch - '0');
    }
    return code <= 255 ? std::optional<int>(code) : std::nullopt;
}

}  // namespace

std::string new_frame_secret() {
    std::array<uint8_t, 16> bytes{};
    if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
        std::random_device device;  // getrandom cannot fail on Linux >= 3.17; a fallback
        for (auto& b : bytes) {
            b = static_cast<uint8_t>(device());
        }
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(32);
    for (uint8_t b : bytes) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0x0F]);
    }
    return out;
}

std::string utc_now_iso() {
    struct timeval tv {};
    ::gettimeofday(&tv, nullptr);
    struct tm utc {};
    ::gmtime_r(&tv.tv_sec, &utc);
    char text[64];
    size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string out(text, n);
    if (tv.tv_usec != 0) {  // isoformat() leaves out a zero fraction
        char fraction[16];
        std::snprintf(fraction, sizeof fraction, ".%06ld", static_cast<long>(tv.tv_usec));
        out += fraction;
    }
    out += "+00:00";
    return out;
}

std::string EventDecoder::frame_prefix(std::string_view secret) {
    std::string prefix(kFrameStart);
    prefix.append(secret);
    prefix.push_back(':');
    return prefix;
}

EventDecoder::EventDecoder(DecoderOptions options, DecoderListener& listener)
    : options_(std::move(options)), listener_(listener) {
    if (!options_.frame_secret.empty()) {
        prefix_ = frame_prefix(options_.frame_secret);
    }
    options_.max_frame_bytes = std::max(options_.max_frame_bytes, prefix_.size() + 1);
}

void EventDecoder::feed(std::string_view bytes) {
    buffer_.append(bytes);
    while (!prefix_.empty() && next_frame()) {
    }
    if (!event_open_) {
        // Lines before a pending frame are complete whatever the frame turns out to be.
        emit_complete_lines(frame_start_ == std::string::npos ? buffer_.size() : frame_start_);
    }
    compact();
}

bool EventDecoder::next_frame() {
    std::string_view all(buffer_);
    if (frame_start_ == std::string::npos) {
        size_t p = all.find(prefix_, std::max(frame_scan_, consumed_));
        if (p == std::string::npos) {
            // A prefix may only be cut at the very end of the buffer.
            size_t keep = prefix_.size() - 1;
            frame_scan_ = std::max(frame_scan_, all.size() > keep ? all.size() - keep : 0);
            return false;
        }
        frame_start_ = p;
        frame_scan_ = p + prefix_.size();
        end_scan_ = std::max(end_scan_, frame_scan_);
    }
    // The end marker must start within max_frame_bytes of the frame's start. Looking no further
    // makes the outcome the same however the output is cut into reads.
    size_t limit = frame_start_ + options_.max_frame_bytes;
    size_t window_end = std::min(all.size(), limit + kFrameEnd.size() - 1);
    size_t q = std::string::npos;
    if (window_end > end_scan_) {
        q = all.substr(0, window_end).find(kFrameEnd, end_scan_);
    }
    if (q == std::string::npos) {
        if (all.size() >= limit + kFrameEnd.size() - 1) {
            // Not a frame: its bytes are text; the secret in them is masked so it never reaches
            // stdout. Later prefixes are looked at on their own.
            mask_secret_at(frame_start_);
            frame_start_ = std::string::npos;
            end_scan_ = limit;
            return true;
        }
        end_scan_ = std::max(end_scan_, window_end - (kFrameEnd.size() - 1));
        return false;
    }
    size_t payload_at = frame_start_ + prefix_.size();
    std::string_view payload = all.substr(payload_at, q - payload_at);
    if (auto code = exit_code_of(payload)) {
        std::string_view text = all.substr(consumed_, frame_start_ - consumed_);
        consumed_ = q + kFrameEnd.size();
        frame_scan_ = end_scan_ = newline_scan_ = consumed_;
        frame_start_ = std::string::npos;
        on_frame(text, nullptr);
        listener_.on_exit(*code);
        return true;
    }
    std::optional<Json> begin;
    if (!payload.empty()) {  // empty: an end frame
        begin = parse_begin(payload);
        if (!begin) {
            // Not an event: the frame's bytes are text, as a frame cut off by the cap.
            mask_secret_at(frame_start_);
            frame_start_ = std::string::npos;
            return true;
        }
    }
    std::string_view text = all.substr(consumed_, frame_start_ - consumed_);
    consumed_ = q + kFrameEnd.size();
    frame_scan_ = end_scan_ = newline_scan_ = consumed_;
    frame_start_ = std::string::npos;
    on_frame(text, begin ? &*begin : nullptr);
    return true;
}

void EventDecoder::mask_secret_at(size_t position) {
    std::fill_n(buffer_.begin() + static_cast<std::ptrdiff_t>(position + kFrameStart.size()),
                options_.frame_secret.size(), '*');
}

void EventDecoder::mask_unfinished_frames() {
    if (prefix_.empty()) {
        return;
    }
    if (frame_start_ != std::string::npos) {
        // No end marker follows the pending frame, so no prefix after it starts a frame either.
        for (size_t p = frame_start_; p != std::string::npos;
             p = buffer_.find(prefix_, p + prefix_.size())) {
            mask_secret_at(p);
        }
        frame_start_ = std::string::npos;
    }
    // A prefix cut short by EOF: mask what it shows of the secret.
    size_t rest = buffer_.size() - std::min(buffer_.size(), consumed_);
    for (size_t n = std::min(rest, prefix_.size() - 1); n > kFrameStart.size(); --n) {
        if (std::string_view(buffer_).substr(buffer_.size() - n) ==
            std::string_view(prefix_).substr(0, n)) {
            size_t at = buffer_.size() - n + kFrameStart.size();
            std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(at),
                      buffer_.begin() + static_cast<std::ptrdiff_t>(std::min(
                                            buffer_.size(), at + options_.frame_secret.size())),
                      '*');
            break;
        }
    }
}

void EventDecoder::finish() {
    mask_unfinished_frames();
    std::string_view rest = std::string_view(buffer_).substr(consumed_);
    if (event_open_) {
        // The event never ended: what it printed is still its text.
        emit_open_event(rest);
    } else {
        emit_lines(rest);
    }
    buffer_.clear();
    consumed_ = frame_scan_ = end_scan_ = newline_scan_ = 0;
}

void EventDecoder::on_frame(std::string_view text, Json* begin) {
    // A begin frame while an event is open closes it with its text so far.
    if (event_open_) {
        emit_open_event(text);
    } else {
        emit_lines(text);
    }
    if (begin != nullptr) {
        open_event(*begin);
    }
}

void EventDecoder::open_event(Json& begin) {
    auto uuid = begin.find("uuid");
    if (uuid != begin.end() && uuid->is_string() &&
        is_event_uuid(uuid->get_ref<const std::string&>())) {
        open_uuid_ = uuid->get<std::string>();
    } else {
        open_uuid_ = util::uuid4();
    }
    open_begin_ = Json::object();
    auto& checked = open_begin_.get_ref<Json::object_t&>();
    for (auto& [key, value] : begin.get_ref<Json::object_t&>()) {
        if (owned_key(key) || wire_key(key) || !expected_type(key, value)) {
            continue;
        }
        if (key == "event_data") {
            auto& data = value.get_ref<Json::object_t&>();
            for (auto it = data.begin(); it != data.end();) {
                it = expected_data_type(it->first, it->second) ? std::next(it) : data.erase(it);
            }
        }
        // Keys of a parsed object are unique: append without ordered_map's linear lookup.
        checked.emplace_back(key, std::move(value));
    }
    event_open_ = true;
}

void EventDecoder::emit_complete_lines(size_t limit) {
    size_t from = std::max(newline_scan_, consumed_);
    if (limit <= from) {
        return;
    }
    const void* found = ::memrchr(buffer_.data() + from, '\n', limit - from);
    newline_scan_ = limit;
    if (found == nullptr) {
        return;
    }
    size_t last = static_cast<size_t>(static_cast<const char*>(found) - buffer_.data());
    std::string_view text = std::string_view(buffer_).substr(consumed_, last + 1 - consumed_);
    consumed_ = last + 1;
    for (std::string_view line : util::split_lines_keep_ends(text)) {
        emit_verbose(line, true);
    }
}

void EventDecoder::emit_lines(std::string_view text) {
    // Complete lines are displayed as they were printed; a last partial line is displayed with
    // a newline, as ansible-runner displays the text of an event. Complete means followed by a
    // `\n` (ansible-runner's OutputEventFilter shows the splitlines() pieces of its buffer up to
    // the last `\n`), so a line ending in `\v`, `\r`, `\f`, `\x1c`-`\x1e`, NEL, LS or PS is
    // shown the same as when emit_complete_lines() takes it, however the output was read.
    if (text.empty()) {
        return;
    }
    const size_t complete = text.rfind('\n') + 1;  // 0 when there is no `\n`
    size_t end = 0;
    for (std::string_view line : util::split_lines_keep_ends(text)) {
        end += line.size();
        emit_verbose(line, end <= complete);
    }
}

void EventDecoder::number(Json& event, std::string_view chunk) {
    ++counter_;
    uint64_t lines = util::count_newlines(chunk);
    event["counter"] = counter_;
    event["stdout"] = util::valid_utf8(strip_trailing_newlines(chunk));
    event["start_line"] = line_;
    event["end_line"] = line_ + lines;
    line_ += lines;
    event["runner_ident"] = options_.runner_ident;
}

void EventDecoder::emit_verbose(std::string_view line, bool display_raw) {
    Json event = Json::object();
    event["event"] = "verbose";
    event["uuid"] = util::uuid4();
    number(event, line);
    event["created"] = utc_now_iso();
    // A line printed outside any event is displayed as it was printed, even in JSON mode; a last
    // partial line is displayed the way an event is.
    if (display_raw) {
        listener_.on_display(util::valid_utf8(line));
    } else {
        display(event);
    }
    listener_.on_event(event);
}

void EventDecoder::emit_open_event(std::string_view text) {
    Json event = Json::object();
    event["uuid"] = std::move(open_uuid_);
    number(event, text);
    // The begin dict's keys are unique and none of them is one number() set.
    auto& object = event.get_ref<Json::object_t&>();
    bool has_created = false;
    for (auto& [key, value] : open_begin_.get_ref<Json::object_t&>()) {
        has_created = has_created || key == "created";
        object.emplace_back(key, std::move(value));
    }
    if (!has_created) {
        event["created"] = utc_now_iso();
    }
    open_begin_ = Json::object();
    event_open_ = false;
    display(event);
    listener_.on_event(event);
}

void EventDecoder::display(const Json& event) {
    // Displayed before the listener gets the event (it may move from it); the text is passed
    // without a copy, since it can be megabytes.
    if (options_.json_mode) {
        std::string text;
        util::python_json_dump(event, text);
        if (text != "{}") {
            text += '\n';
            listener_.on_display(text);
        }
        return;
    }
    const std::string& text = event["stdout"].get_ref<const std::string&>();
    if (!text.empty() && text != "{}") {
        if (text.size() < kJoinDisplayBelow) {
            // One write to the console and one to ART/stdout instead of two each.
            display_scratch_.assign(text);
            display_scratch_ += '\n';
            listener_.on_display(display_scratch_);
        } else {
            listener_.on_display(text);
            listener_.on_display("\n");
        }
    }
}

void EventDecoder::compact() {
    bool all_done = consumed_ > 0 && consumed_ == buffer_.size();
    bool worth_it = consumed_ >= kCompactThreshold && consumed_ >= buffer_.size() - consumed_;
    if (!all_done && !worth_it) {
        return;
    }
    buffer_.erase(0, consumed_);
    for (size_t* index : {&frame_scan_, &end_scan_, &newline_scan_}) {
        *index = std::max(*index, consumed_) - consumed_;
    }
    if (frame_start_ != std::string::npos) {
        frame_start_ -= consumed_;
    }
    consumed_ = 0;
}

}  // namespace arunner::events
