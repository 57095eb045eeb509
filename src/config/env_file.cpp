#include "config/env_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "util/python_json.hpp"
#include "util/python_truth.hpp"
#include "util/read_beneath.hpp"
#include "util/text.hpp"

namespace arunner::config {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxDepth = 1000;  // deeper nesting is refused, as yaml_to_json does

// ---------------------------------------------------------------------------------------------
// Files

bool deeper_than(const Json& v, int limit) {
    if (!v.is_structured()) {
        return false;
    }
    if (limit == 0) {
        return true;
    }
    return std::any_of(v.begin(), v.end(),
                       [&](const Json& child) { return deeper_than(child, limit - 1); });
}

std::string kind_name(const Json& v) {
    switch (v.type()) {
        case Json::value_t::array:
            return "list";
        case Json::value_t::string:
            return "string";
        case Json::value_t::boolean:
            return "boolean";
        default:
            return v.is_number() ? "number" : v.type_name();
    }
}

// "<display_name>: invalid JSON at line L, column C (byte B): <reason>" from nlohmann's message.
Error json_error(std::string_view display_name, const Json::parse_error& e) {
    std::string what = e.what();
    const size_t p = what.find("parse error");
    std::string rest = p == std::string::npos ? what : what.substr(p + std::strlen("parse error"));
    std::string where;
    const size_t colon = rest.find(": ");
    if (colon != std::string::npos) {
        where = rest.substr(0, colon);
        rest = rest.substr(colon + 2);
    }
    where += " (byte " + std::to_string(e.byte) + ")";
    return Error{std::string(display_name) + ": invalid JSON" + where + ": " + rest};
}

}  // namespace

Result<std::optional<Json>> load_mapping_file(const std::filesystem::path& dir,
                                              const std::string& relative) {
    ARUNNER_ASSIGN_OR_RETURN(auto file, util::read_file_beneath(dir, relative, relative));
    if (!file) {
        return std::optional<Json>();
    }
    const std::string& text = *file;
    const std::string_view display_name = relative;
    const size_t first = text.find_first_not_of(" \t\r\n\f\v");
    if (first == std::string::npos) {
        return std::optional<Json>();
    }
    // Python reads the file as UTF-8 and fails on anything else.
    if (const size_t bad = util::valid_utf8_prefix(text); bad != text.size()) {
        return Error{std::string(display_name) + ": not valid UTF-8 (byte " + std::to_string(bad) +
                     ")"};
    }

    std::optional<Error> json_failure;
    Json value;
    try {
        value = Json::parse(text);
    } catch (const Json::parse_error& e) {
        json_failure = json_error(display_name, e);
    } catch (const std::exception& e) {
        json_failure = Error{std::string(display_name) + ": invalid JSON: " + e.what()};
    }
    if (json_failure || !util::python_truthy(value)) {
        auto yaml = yaml_to_json(text, display_name);
        if (!yaml) {
            const bool looks_like_json = text[first] == '{' || text[first] == '[';
            return json_failure && looks_like_json ? *json_failure : yaml.error();
        }
        value = std::move(*yaml);
    } else if (deeper_than(value, kMaxDepth)) {
        return Error{std::string(display_name) + ": nesting deeper than " +
                     std::to_string(kMaxDepth) + " levels"};
    }
    if (value.is_null()) {
        return std::optional<Json>();
    }
    if (!value.is_object()) {
        return Error{std::string(display_name) +
                     " must be a mapping of keys to values, but it holds a " + kind_name(value)};
    }
    return std::optional<Json>(std::move(value));
}

Result<std::optional<std::string>> load_text_file(const std::filesystem::path& dir,
                                                  const std::string& relative) {
    return util::read_file_beneath(dir, relative, relative);
}

std::vector<std::pair<std::string, std::string>> stringify_mapping(const Json& mapping) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!mapping.is_object()) {
        return out;
    }
    out.reserve(mapping.size());
    for (const auto& [key, value] : mapping.get_ref<const Json::object_t&>()) {
        out.emplace_back(key, util::python_str(value));
    }
    return out;
}

}  // namespace arunner::config
