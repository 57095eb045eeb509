#pragma once
// A strict JSON scanner. It accepts only what nlohmann's parser accepts (and declines some of
// that: the caller then asks nlohmann), so that the processor's fast paths never change what a line
// means: it validates a whole line once, finds the top-level members the processor looks at
// without building anything, and builds the whole ordered_json when an event handler needs it.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace arunner::stream::json_scan {

/// The top-level members of a line that the processor looks at, found without building the
/// line. `scan_members` declines (false) anything but a valid JSON object whose keys have no
/// escapes and name none of these twice.
struct Member {
    enum Kind { absent, null, boolean_false, boolean_true, integer, floating, string, container };
    Kind kind = absent;
    std::string_view raw;  // a string's inside, a number's token
    bool escaped = false;
};

struct Members {
    Member status, zipfile, eof, event, counter, uuid, stdout_text;

    Member* find(std::string_view key) {
        switch (key.size()) {
            case 3:
                return key == "eof" ? &eof : nullptr;
            case 4:
                return key == "uuid" ? &uuid : nullptr;
            case 5:
                return key == "event" ? &event : nullptr;
            case 6:
                return key == "status" ? &status : key == "stdout" ? &stdout_text : nullptr;
            case 7:
                return key == "zipfile" ? &zipfile : key == "counter" ? &counter : nullptr;
            default:
                return nullptr;
        }
    }
};

/// Finds the members above in `line`; false declines (the caller then asks nlohmann).
bool scan_members(std::string_view line, Members& out);

/// Python's truth of a counter or uuid member; nullopt when only the built value can tell.
std::optional<bool> member_truthy(const Member& m);

/// Decodes the inside of a string the scanner accepted (so every escape in it is well formed).
void decode_string(std::string_view raw, std::string& out);

/// Parses a whole JSON text into `out` exactly as nlohmann would; false declines (not valid, or
/// not a case this parser handles: the caller then asks nlohmann).
bool parse_json(std::string_view text, nlohmann::ordered_json& out);

}  // namespace arunner::stream::json_scan
