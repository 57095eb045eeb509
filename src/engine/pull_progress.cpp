#include "engine/pull_progress.hpp"

#include <nlohmann/json.hpp>

#include "util/strings.hpp"
#include "util/text.hpp"

namespace arunner::engine {
namespace {

using json = nlohmann::ordered_json;

std::string text_of(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> bytes_of(const json& detail, const char* key) {
    if (!detail.is_object()) {
        return std::nullopt;
    }
    auto it = detail.find(key);
    if (it == detail.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
        return std::nullopt;
    }
    return it->get<int64_t>();
}

/// At most 12 bytes of a layer id, as the engines' own CLIs show them; "sha256:" dropped. Valid
/// UTF-8 whatever the engine sent (a character cut at byte 12 becomes U+FFFD).
std::string short_id(std::string id) {
    if (id.starts_with("sha256:")) {
        id.erase(0, 7);
    }
    return util::valid_utf8(id.substr(0, 12));
}

/// A quoted start of an untrusted line, valid UTF-8, for an error message.
std::string quoted_start(std::string_view line) {
    std::string start(line.substr(0, 80));
    return "'" + util::valid_utf8(start) + (line.size() > 80 ? "…'" : "'");
}

}  // namespace

Error PullLineSplitter::too_long() {
    return Error{"the engine's pull answer has a line longer than " +
                 std::to_string(kMaxPullLineBytes / 1024) + " KiB"};
}

Result<PullLine> parse_pull_line(std::string_view line) {
    auto parsed = json::parse(line, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        return Error{"the engine's pull answer has a line that is not a JSON object: " +
                     quoted_start(line)};
    }
    PullLine out;
    // An error, in either dialect: "error" (a string), or the Docker API's errorDetail.message.
    std::string error = text_of(parsed, "error");
    if (error.empty()) {
        auto detail = parsed.find("errorDetail");
        if (detail != parsed.end() && detail->is_object()) {
            error = text_of(*detail, "message");
        }
    }
    if (!error.empty()) {
        out.kind = PullLine::Kind::error;
        out.message = util::valid_utf8(std::string(util::trim(error)));
        return out;
    }
    // libpod: text lines, then the image's id.
    if (std::string stream = text_of(parsed, "stream"); !stream.empty()) {
        std::string text(util::trim(stream));
        out.kind = PullLine::Kind::progress;
        for (const char* prefix : {"Copying blob ", "Copying config "}) {
            if (text.starts_with(prefix)) {
                std::string_view rest =
                    std::string_view(text).substr(std::string_view(prefix).size());
                out.status = std::string(util::trim(std::string_view(prefix)));
                out.layer = short_id(std::string(rest.substr(0, rest.find(' '))));
                return out;
            }
        }
        out.status = util::valid_utf8(text);
        return out;
    }
    if (parsed.contains("images") || (parsed.contains("id") && !parsed.contains("status"))) {
        out.kind = PullLine::Kind::done;
        out.message = util::valid_utf8(text_of(parsed, "id"));
        return out;
    }
    // The Docker API: {"status": …, "id": layer, "progressDetail": {"current", "total"}}.
    if (std::string status = text_of(parsed, "status"); !status.empty()) {
        out.kind = PullLine::Kind::progress;
        out.status = util::valid_utf8(std::string(util::trim(status)));
        out.layer = short_id(text_of(parsed, "id"));
        auto detail = parsed.find("progressDetail");
        if (detail != parsed.end()) {
            out.current = bytes_of(*detail, "current");
            out.total = bytes_of(*detail, "total");
        }
    }
    return out;
}

}  // namespace arunner::engine
