#include "events/event_decoder.hpp"

#include <sys/time.h>

#include <algorithm>
#include <ctime>

#include "util/python_json.hpp"
#include "util/text.hpp"
#include "util/uuid.hpp"

namespace arunner::events {
namespace {

// A frame that has not ended after this many bytes is not ours: its start is taken as text.
constexpr size_t kMaxFrameBytes = size_t{256} << 20;
// Handled bytes are dropped from the front of the buffer once they are this many.
constexpr size_t kCompactThreshold = size_t{1} << 20;
// Event text shorter than this is displayed together with its newline, in one piece.
constexpr size_t kJoinDisplayBelow = size_t{64} << 10;

std::string_view strip_trailing_newlines(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

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

EventDecoder::EventDecoder(DecoderOptions options, DecoderListener& listener)
    : options_(std::move(options)), listener_(listener) {}

void EventDecoder::feed(std::string_view bytes) {
    buffer_.append(bytes);
    for (;;) {
        if (frame_start_ == std::string::npos) {
            size_t p = buffer_.find(kFrameStart, scan_);
            if (p == std::string::npos) {
                // No frame here; a frame start may only be cut at the very end of the buffer.
                if (!event_open_) {
                    emit_complete_lines(std::string_view(buffer_).substr(consumed_));
                }
                size_t keep = kFrameStart.size() - 1;
                scan_ = std::max(consumed_, buffer_.size() > keep ? buffer_.size() - keep : 0);
                break;
            }
            frame_start_ = p;
            scan_ = p + kFrameStart.size();
        }
        size_t q = buffer_.find(kFrameEnd, scan_);
        if (q == std::string::npos) {
            if (buffer_.size() - frame_start_ > kMaxFrameBytes) {
                scan_ = frame_start_ + 1;  // not a frame after all: its bytes are plain text
                frame_start_ = std::string::npos;
                continue;
            }
            scan_ = std::max(scan_, buffer_.size() - (kFrameEnd.size() - 1));
            break;
        }
        std::string_view all(buffer_);
        std::string_view text = all.substr(consumed_, frame_start_ - consumed_);
        size_t payload_at = frame_start_ + kFrameStart.size();
        std::string_view payload = all.substr(payload_at, q - payload_at);
        consumed_ = q + kFrameEnd.size();
        scan_ = consumed_;
        frame_start_ = std::string::npos;
        on_frame(text, payload);
    }
    compact();
}

void EventDecoder::finish() {
    size_t end = frame_start_ == std::string::npos ? buffer_.size() : frame_start_;
    std::string_view rest = std::string_view(buffer_).substr(consumed_, end - consumed_);
    if (event_open_) {
        // The event never ended: what it printed is still its text.
        emit_open_event(rest);
    } else if (!rest.empty()) {
        for (std::string_view line : util::split_lines_keep_ends(rest)) {
            emit_verbose(line, line.find('\n') != std::string_view::npos);
        }
    }
    buffer_.clear();
    consumed_ = scan_ = 0;
    frame_start_ = std::string::npos;
}

void EventDecoder::on_frame(std::string_view text, std::string_view payload) {
    if (event_open_) {
        emit_open_event(text);
    } else if (!text.empty()) {
        // Complete lines first, displayed as they were printed; a last partial line is displayed
        // with a newline, as ansible-runner displays the text of an event.
        auto lines = util::split_lines_keep_ends(text);
        for (std::string_view line : lines) {
            emit_verbose(line, line.find('\n') != std::string_view::npos);
        }
    }
    nlohmann::ordered_json begin = nlohmann::ordered_json::parse(payload, nullptr, false);
    if (!payload.empty() && begin.is_object() && begin.contains("uuid")) {
        open_begin_ = std::move(begin);
        event_open_ = true;
    } else {
        event_open_ = false;
    }
}

void EventDecoder::emit_complete_lines(std::string_view text) {
    if (text.find('\n') == std::string_view::npos) {
        return;
    }
    auto lines = util::split_lines_keep_ends(text);
    if (!lines.empty() && lines.back().find('\n') == std::string_view::npos) {
        lines.pop_back();  // a partial line waits for the rest
    }
    for (std::string_view line : lines) {
        emit_verbose(line, true);
        consumed_ += line.size();
    }
}

void EventDecoder::number(nlohmann::ordered_json& event, std::string_view chunk) {
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
    nlohmann::ordered_json event = nlohmann::ordered_json::object();
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
    nlohmann::ordered_json event = nlohmann::ordered_json::object();
    event["uuid"] = open_begin_["uuid"];
    number(event, text);
    for (auto& [key, value] : open_begin_.items()) {
        if (key != "uuid") {
            event[key] = std::move(value);
        }
    }
    if (!event.contains("created")) {
        event["created"] = utc_now_iso();
    }
    event_open_ = false;
    display(event);
    listener_.on_event(event);
}

void EventDecoder::display(const nlohmann::ordered_json& event) {
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
    if (consumed_ >= kCompactThreshold || (consumed_ > 0 && consumed_ == buffer_.size())) {
        buffer_.erase(0, consumed_);
        scan_ -= consumed_;
        if (frame_start_ != std::string::npos) {
            frame_start_ -= consumed_;
        }
        consumed_ = 0;
    }
}

}  // namespace arunner::events
