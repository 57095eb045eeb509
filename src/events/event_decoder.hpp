#pragma once
// Finds arunner's in-band events in a child's output and completes them the way ansible-runner's
// OutputEventFilter and Runner.event_callback do (docs/job-events.md).
//
// Framing (written by plugins/callback/awx_display.py; docs/frames.md): an event is a begin frame
// `ESC _ arunner:<secret>:<JSON begin dict> ESC \`, then the text ansible printed for it, then an
// end frame `ESC _ arunner:<secret>: ESC \`. These are APC strings, which terminals do not
// display; the JSON is ASCII (json.dumps with ensure_ascii) and so never contains ESC. <secret>
// is the run's frame secret (new_frame_secret()), which only the plugin learns: bytes that look
// like a frame without it are plain output and stay in stdout byte for byte. Text outside any
// event is cut into lines, each a `verbose` event.
//
// Even a frame that carries the secret can only describe a wrong event: arunner sets counter,
// uuid, stdout, start_line, end_line and runner_ident itself, fields of the wrong type are dropped
// (see the guarantees at DecoderListener), and a frame that is neither an end frame nor a begin
// dict of an event, or that does not end within kMaxFrameBytes, is text (its secret masked), so no
// output is ever hidden.
//
// Cost: linear in the bytes fed; memory holds at most the largest event's text, a pending frame
// (up to kMaxFrameBytes) and the line being collected.
//
// Not thread-safe: one decoder per output stream, fed in order.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace arunner::events {

/// A frame whose end marker has not come this many bytes after its start is not a frame: its
/// bytes are text. Far above any begin dict the plugin writes (MAX_EVENT_RES caps `res` at
/// 700,000 characters; ensure_ascii may make that a few MB of JSON).
inline constexpr size_t kMaxFrameBytes = size_t{64} << 20;

/// Receives what the decoder finds, in output order, on the thread that feeds it.
///
/// Every event has: `uuid` (a string, lowercase 8-4-4-4-12 hex, optionally followed by `_<n>`),
/// `counter` (1, 2, ...), `stdout` (valid UTF-8), `start_line`, `end_line`, `runner_ident`,
/// `event` (a non-empty string) and `created` (a string); `parent_uuid` is a string and `pid` an
/// integer when present; `event_data` is an object when present, its `host` and `task` are
/// strings when present, and `play`, `role` and the other names listed in event_decoder.cpp
/// strings or null. No
/// event has a top-level `status`, `zipfile`, `eof` or `kwargs` (the keys the transmit/worker/
/// process wire reads to tell a line's kind).
class DecoderListener {
  public:
    virtual ~DecoderListener() = default;
    /// A complete event, keys in ansible-runner's order. The listener may move from it.
    virtual void on_event(nlohmann::ordered_json& event) = 0;
    /// Text for the console and ART/stdout, framing removed.
    virtual void on_display(std::string_view text) = 0;
    /// An exit frame `ESC _ arunner:<secret>:exit:<code> ESC \` (0-255): the container's command
    /// has ended with `code` (written by the wrapper of a process-isolated job's command).
    virtual void on_exit(int /*code*/) {}
};

/// How events are completed and displayed.
struct DecoderOptions {
    std::string runner_ident;  ///< set as `runner_ident` on every event
    bool json_mode = false;    ///< display each event as a JSON line instead of its text
    /// The run's frame secret: only frames that carry it are events. Empty: no frame is an
    /// event, all output is text (verbose events).
    std::string frame_secret;
    /// See kMaxFrameBytes (smaller in tests).
    size_t max_frame_bytes = kMaxFrameBytes;
};

/// A fresh frame secret: 128 bits from getrandom, as 32 lowercase hex digits.
std::string new_frame_secret();

/// Decodes one output stream.
class EventDecoder {
  public:
    EventDecoder(DecoderOptions options, DecoderListener& listener);

    /// Appends output bytes; events and display text are delivered as soon as they are complete.
    void feed(std::string_view bytes);
    /// End of stream: the rest becomes events; the bytes of a frame cut short by EOF are text
    /// (with the secret masked).
    void finish();

    /// Events delivered so far (the last counter).
    uint64_t counter() const { return counter_; }

    /// The fixed start of every frame: ESC _ "arunner:".
    static constexpr std::string_view kFrameStart = "\x1b_arunner:";
    /// The frame end marker: ESC backslash (the APC string terminator).
    static constexpr std::string_view kFrameEnd = "\x1b\\";
    /// What every frame of a run starts with: kFrameStart, the secret, ':'.
    static std::string frame_prefix(std::string_view secret);

  private:
    bool next_frame();
    void mask_secret_at(size_t position);
    void mask_unfinished_frames();
    void on_frame(std::string_view text_before, nlohmann::ordered_json* begin);
    void open_event(nlohmann::ordered_json& begin);
    void emit_complete_lines(size_t limit);
    void emit_lines(std::string_view text);
    void emit_verbose(std::string_view line, bool display_raw);
    void emit_open_event(std::string_view text);
    void number(nlohmann::ordered_json& event, std::string_view chunk);
    void display(const nlohmann::ordered_json& event);
    void compact();

    DecoderOptions options_;
    DecoderListener& listener_;
    std::string prefix_;  ///< frame_prefix(secret); empty when frames are off
    std::string buffer_;
    size_t consumed_ = 0;                     ///< bytes of buffer_ already handled
    size_t frame_scan_ = 0;                   ///< no frame prefix starts before this
    size_t frame_start_ = std::string::npos;  ///< a frame whose end has not arrived yet
    size_t end_scan_ = 0;                     ///< no end marker starts in [frame_start_, end_scan_)
    size_t newline_scan_ = 0;  ///< no '\n' in [consumed_, newline_scan_) outside events
    bool event_open_ = false;
    std::string open_uuid_;              ///< the uuid of the open event
    nlohmann::ordered_json open_begin_;  ///< the open event's begin dict, checked
    std::string display_scratch_;        ///< an event's text and its newline, displayed at once
    uint64_t counter_ = 0;
    uint64_t line_ = 0;
};

/// Now, as Python's `datetime.now(timezone.utc).isoformat()`.
std::string utc_now_iso();

}  // namespace arunner::events
