#pragma once
// What an engine says while it pulls an image, read line by line and bounded: the Docker API's
// `POST /images/create` answer (one JSON object per line: status, layer id, bytes done of total,
// or an error) and libpod's `POST /libpod/images/pull` answer (text lines in "stream", an
// "error", then the pulled image's "id"). The engine is trusted no more than its answer's size:
// a line over kMaxPullLineBytes is an Error.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "arunner/error.hpp"

namespace arunner::engine {

/// The longest line of a pull answer that is read (real ones are under 1 KiB).
inline constexpr size_t kMaxPullLineBytes = size_t{64} * 1024;

/// One line of a pull answer.
struct PullLine {
    enum class Kind {
        progress,  ///< something moved: `layer`, `status`, maybe bytes
        error,     ///< the pull failed: `message`
        done,      ///< libpod's final line: the image id in `message`
        other,     ///< nothing to show (an empty object, a field we do not use)
    };
    Kind kind = Kind::other;
    std::string layer;               ///< a layer or blob id (short form); empty for the whole image
    std::string status;              ///< "Downloading", "Pull complete", "Copying blob", …
    std::string message;             ///< the error's text, or the pulled image's id
    std::optional<int64_t> current;  ///< bytes done, when the engine says
    std::optional<int64_t> total;    ///< bytes in all, when the engine says
};

/// Reads one line (without its newline). Anything that is not a JSON object is an Error that
/// quotes its start; fields of the wrong type are ignored.
Result<PullLine> parse_pull_line(std::string_view line);

/// Splits the chunks of an answer into lines, holding at most kMaxPullLineBytes.
class PullLineSplitter {
  public:
    /// Appends `chunk`, calling `on_line` for each complete non-empty line; stops at the first
    /// Error (of a line too long, or of `on_line`).
    template <typename OnLine>
    Status feed(std::string_view chunk, OnLine&& on_line) {
        while (!chunk.empty()) {
            size_t newline = chunk.find('\n');
            std::string_view part = chunk.substr(0, newline);
            if (pending_.size() + part.size() > kMaxPullLineBytes) {
                return too_long();
            }
            pending_.append(part);
            if (newline == std::string_view::npos) {
                break;
            }
            chunk.remove_prefix(newline + 1);
            std::string line;
            line.swap(pending_);
            if (!line.empty() && line != "\r") {
                ARUNNER_TRY(on_line(std::string_view(line)));
            }
        }
        return {};
    }
    /// The last line when the answer did not end with a newline (empty: none).
    std::string take_rest() { return std::exchange(pending_, std::string()); }

  private:
    static Error too_long();
    std::string pending_;
};

}  // namespace arunner::engine
