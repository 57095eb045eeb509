#pragma once
// Finds arunner's in-band events in a child's output and completes them the way ansible-runner's
// OutputEventFilter and Runner.event_callback do (SPEC §5.5–§5.7).
//
// Framing (written by plugins/callback/awx_display.py): an event is a begin frame
// `ESC _ arunner: <JSON begin dict> ESC \`, then the text ansible printed for it, then an end
// frame `ESC _ arunner: ESC \`. These are APC strings, which terminals do not display; the JSON is
// ASCII (json.dumps with ensure_ascii) and so never contains ESC. Text outside any event is cut
// into lines, each a `verbose` event.
//
// Not thread-safe: one decoder per output stream, fed in order.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace arunner::events {

/// Receives what the decoder finds, in output order, on the thread that feeds it.
class DecoderListener {
  public:
    virtual ~DecoderListener() = default;
    /// A complete event, keys in ansible-runner's order. The listener may move from it.
    virtual void on_event(nlohmann::ordered_json& event) = 0;
    /// Text for the console and ART/stdout, framing removed.
    virtual void on_display(std::string_view text) = 0;
};

/// How events are completed and displayed.
struct DecoderOptions {
    std::string runner_ident;  ///< set as `runner_ident` on every event
    bool json_mode = false;    ///< display each event as a JSON line instead of its text
};

/// Decodes one output stream.
class EventDecoder {
  public:
    EventDecoder(DecoderOptions options, DecoderListener& listener);

    /// Appends output bytes; events and display text are delivered as soon as they are complete.
    void feed(std::string_view bytes);
    /// End of stream: the rest becomes events; a frame cut short by EOF is dropped.
    void finish();

    /// Events delivered so far (the last counter).
    uint64_t counter() const { return counter_; }

    /// The frame start marker: ESC _ "arunner:".
    static constexpr std::string_view kFrameStart = "\x1b_arunner:";
    /// The frame end marker: ESC backslash (the APC string terminator).
    static constexpr std::string_view kFrameEnd = "\x1b\\";

  private:
    void on_frame(std::string_view text_before, std::string_view payload);
    void emit_complete_lines(std::string_view text);
    void emit_verbose(std::string_view line, bool display_raw);
    void emit_open_event(std::string_view text);
    void number(nlohmann::ordered_json& event, std::string_view chunk);
    void display(const nlohmann::ordered_json& event);
    void compact();

    DecoderOptions options_;
    DecoderListener& listener_;
    std::string buffer_;
    size_t consumed_ = 0;                     ///< bytes of buffer_ already handled
    size_t scan_ = 0;                         ///< where the next search starts
    size_t frame_start_ = std::string::npos;  ///< a frame whose end has not arrived yet
    bool event_open_ = false;
    nlohmann::ordered_json open_begin_;  ///< the begin dict of the open event
    std::string display_scratch_;        ///< an event's text and its newline, displayed at once
    uint64_t counter_ = 0;
    uint64_t line_ = 0;
};

/// Now, as Python's `datetime.now(timezone.utc).isoformat()`.
std::string utc_now_iso();

}  // namespace arunner::events
