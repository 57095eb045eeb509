// Fuzzes the processor's JSON scanner (src/stream/json_line_scan.hpp) against nlohmann's strict
// parser, which it must agree with wherever it does not decline: a differential target.
//
// The input is one or two lines (split at the first newline when there is one). For each:
// - scan_members(): when it accepts, nlohmann parses the line to an object, and each member the
//   processor looks at has the kind, text and Python truth of nlohmann's value;
// - parse_json(): when it accepts, nlohmann parses the text to an equal value; parsing the second
//   text into the value built from the first (reused in place, as the processor does) gives the
//   same value as parsing it fresh.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "stream/json_line_scan.hpp"
#include "util/python_truth.hpp"

namespace {

namespace scan = arunner::stream::json_scan;
using Json = nlohmann::ordered_json;
using scan::Member;

/// The member `key` of `object` as nlohmann sees it: the last value of a repeated key.
void check_member(const Json& object, const char* key, const Member& m) {
    if (!object.contains(key)) {
        FUZZ_CHECK(m.kind == Member::absent, std::string("no member ") + key);
        return;
    }
    const Json& v = object[key];
    switch (m.kind) {
        case Member::absent:
            FUZZ_CHECK(false, std::string("member found: ") + key);
            break;
        case Member::null:
            FUZZ_CHECK(v.is_null(), "a null member");
            break;
        case Member::boolean_false:
        case Member::boolean_true:
            FUZZ_CHECK(v.is_boolean() && v.get<bool>() == (m.kind == Member::boolean_true),
                       "a boolean member");
            break;
        case Member::integer:
        case Member::floating: {
            FUZZ_CHECK(v.is_number(), "a number member");
            // nlohmann keeps an integer that fits 64 bits as one; anything else is a double.
            if (m.kind == Member::floating) {
                FUZZ_CHECK(v.is_number_float(), "a fraction or exponent makes a float");
            }
            FUZZ_CHECK(Json::parse(m.raw, nullptr, false) == v, "a number member's token");
            break;
        }
        case Member::string: {
            FUZZ_CHECK(v.is_string(), "a string member");
            std::string decoded;
            scan::decode_string(m.raw, decoded);
            FUZZ_CHECK(decoded == v.get_ref<const std::string&>(), "a string member's text");
            FUZZ_CHECK(m.escaped == (m.raw.find('\\') != std::string_view::npos),
                       "escaped says whether the raw text has a backslash");
            break;
        }
        case Member::container:
            FUZZ_CHECK(v.is_structured(), "a container member");
            break;
    }
    auto truth = scan::member_truthy(m);
    if (truth) {
        FUZZ_CHECK(*truth == arunner::util::python_truthy(v),
                   std::string("the truth of member ") + key);
    }
}

void check_scan(std::string_view line) {
    scan::Members members;
    if (!scan::scan_members(line, members)) {
        return;  // declined: the caller asks nlohmann
    }
    Json object = Json::parse(line, nullptr, false);
    FUZZ_CHECK(object.is_object(), "scan_members accepts only what nlohmann parses to an object");
    check_member(object, "status", members.status);
    check_member(object, "zipfile", members.zipfile);
    check_member(object, "eof", members.eof);
    check_member(object, "event", members.event);
    check_member(object, "counter", members.counter);
    check_member(object, "uuid", members.uuid);
    check_member(object, "stdout", members.stdout_text);
}

/// Equal as values and in key order (ordered_json's == compares both), floats bit for bit.
bool same(const Json& a, const Json& b) {
    return a == b && a.dump() == b.dump();
}

/// parse_json() into `out` (which may hold a previous value) agrees with nlohmann.
void check_parse(std::string_view text, Json& out) {
    bool accepted = scan::parse_json(text, out);
    if (!accepted) {
        return;
    }
    Json expected = Json::parse(text, nullptr, false);
    FUZZ_CHECK(!expected.is_discarded(), "parse_json accepts only what nlohmann parses");
    FUZZ_CHECK(same(out, expected), "parse_json builds what nlohmann builds");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t newline = input.find('\n');
    std::string_view first = input.substr(0, newline);
    std::string_view second =
        newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

    check_scan(first);
    check_scan(input);  // with the newline and what follows: still one JSON text or declined

    Json reused;
    check_parse(first, reused);
    if (newline != std::string_view::npos) {
        // Reuse whatever the first parse left, even after a failure half-way: the processor
        // reuses the previous event's value the same way.
        check_parse(second, reused);
        Json fresh;
        check_parse(second, fresh);
    }
    return 0;
}
