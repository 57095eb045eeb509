#include "config/env_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "util/python_json.hpp"
#include "util/unique_fd.hpp"

namespace arunner::config {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kYamlTagPrefix = "tag:yaml.org,2002:";
constexpr int kMaxDepth = 1000;  // deeper nesting (or a cyclic alias) is refused
// Alias expansion ("billion laughs") is budgeted in bytes: every node built costs
// kNodeCost plus its text (scalars, mapping keys), and the total may not pass
// kExpansionAllowance plus kExpansionFactor times the file's size. Counting nodes alone let one
// alias of a long string be copied a million times.
constexpr size_t kNodeCost = 16;
constexpr size_t kExpansionAllowance = size_t{16} << 20;
constexpr size_t kExpansionFactor = 4;

// ---------------------------------------------------------------------------------------------
// PyYAML's implicit resolver (yaml/resolver.py), one matcher per regular expression.

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Index of the first character of s at or after `pos` that is not accepted by `accept`.
template <typename Accept>
size_t skip(std::string_view s, size_t pos, Accept accept) {
    while (pos < s.size() && accept(s[pos])) {
        ++pos;
    }
    return pos;
}

size_t skip_sign(std::string_view s) {
    return !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
}

bool digit_or_underscore(char c) {
    return is_digit(c) || c == '_';
}

// `(?::[0-5]?[0-9])+` starting at s[pos] == ':'; returns the index after it, or npos.
size_t skip_sexagesimal_groups(std::string_view s, size_t pos) {
    if (pos >= s.size() || s[pos] != ':') {
        return std::string_view::npos;
    }
    while (pos < s.size() && s[pos] == ':') {
        const size_t end = skip(s, pos + 1, is_digit);
        const size_t n = end - pos - 1;
        if (n == 0 || n > 2 || (n == 2 && s[pos + 1] > '5')) {
            return std::string_view::npos;
        }
        pos = end;
    }
    return pos;
}

// `(?:[eE][-+][0-9]+)?$` from pos.
bool optional_exponent_to_end(std::string_view s, size_t pos) {
    if (pos == s.size()) {
        return true;
    }
    if ((s[pos] != 'e' && s[pos] != 'E') || pos + 2 >= s.size() ||
        (s[pos + 1] != '-' && s[pos + 1] != '+')) {
        return false;
    }
    return skip(s, pos + 2, is_digit) == s.size();
}

bool matches_bool(std::string_view s) {
    static constexpr std::string_view kWords[] = {"yes",  "Yes",  "YES",  "no",    "No",    "NO",
                                                  "true", "True", "TRUE", "false", "False", "FALSE",
                                                  "on",   "On",   "ON",   "off",   "Off",   "OFF"};
    return std::find(std::begin(kWords), std::end(kWords), s) != std::end(kWords);
}

bool matches_null(std::string_view s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool matches_int(std::string_view s) {
    const std::string_view v = s.substr(skip_sign(s));
    if (v.empty()) {
        return false;
    }
    auto all = [](std::string_view t, auto accept) {
        return !t.empty() && std::all_of(t.begin(), t.end(), accept);
    };
    if (v.substr(0, 2) == "0b") {
        return all(v.substr(2), [](char c) { return c == '0' || c == '1' || c == '_'; });
    }
    if (v.substr(0, 2) == "0x") {
        return all(v.substr(2),
                   [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '_'; });
    }
    if (v[0] == '0') {
        return v.size() == 1 ||
               all(v.substr(1), [](char c) { return (c >= '0' && c <= '7') || c == '_'; });
    }
    if (!is_digit(v[0])) {
        return false;
    }
    const size_t end = skip(v, 1, digit_or_underscore);
    return end == v.size() || skip_sexagesimal_groups(v, end) == v.size();
}

bool matches_float(std::string_view s) {
    const size_t sign = skip_sign(s);
    const std::string_view v = s.substr(sign);
    if (v == ".inf" || v == ".Inf" || v == ".INF") {
        return true;
    }
    if (sign == 0 && (v == ".nan" || v == ".NaN" || v == ".NAN")) {
        return true;
    }
    if (!v.empty() && v[0] == '.') {  // `\.[0-9][0-9_]*` takes no sign
        return sign == 0 && v.size() > 1 && is_digit(v[1]) &&
               optional_exponent_to_end(v, skip(v, 2, digit_or_underscore));
    }
    if (v.empty() || !is_digit(v[0])) {
        return false;
    }
    size_t pos = skip(v, 1, digit_or_underscore);
    if (pos < v.size() && v[pos] == ':') {
        pos = skip_sexagesimal_groups(v, pos);
        return pos != std::string_view::npos && pos < v.size() && v[pos] == '.' &&
               skip(v, pos + 1, digit_or_underscore) == v.size();
    }
    return pos < v.size() && v[pos] == '.' &&
           optional_exponent_to_end(v, skip(v, pos + 1, digit_or_underscore));
}

// The tag (suffix after "tag:yaml.org,2002:") PyYAML gives a plain scalar. Timestamps are not
// told apart: they are kept as the text they were written as.
std::string_view resolve_plain(std::string_view s) {
    if (matches_bool(s)) {
        return "bool";
    }
    if (matches_float(s)) {
        return "float";
    }
    if (matches_int(s)) {
        return "int";
    }
    if (s == "<<") {
        return "merge";
    }
    if (matches_null(s)) {
        return "null";
    }
    if (s == "=") {
        return "value";
    }
    return "str";
}

// ---------------------------------------------------------------------------------------------
// PyYAML's SafeConstructor for int and float (yaml/constructor.py), with Python's unbounded ints.

// Python's repr() of a str, as used in PyYAML's messages.
std::string python_quoted(std::string_view s) {
    const std::string list = util::python_str(Json::array({s}));
    return list.substr(1, list.size() - 2);
}

// Python's int() digit value of c, or 99.
unsigned digit_value(char c) {
    if (is_digit(c)) {
        return static_cast<unsigned>(c - '0');
    }
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower >= 'a' && lower <= 'z' ? static_cast<unsigned>(lower - 'a' + 10) : 99;
}

// construct_yaml_int. Python ints are unbounded: a decimal beyond 64 bits is kept as its digits
// (what str() prints); another base beyond 64 bits is refused. On failure `why` says why.
std::optional<Json> construct_int(std::string_view text, std::string& why) {
    std::string value;
    std::remove_copy(text.begin(), text.end(), std::back_inserter(value), '_');
    const bool negative = !value.empty() && value[0] == '-';
    value.erase(0, skip_sign(value));
    std::string_view v = value;
    unsigned base = 10;
    if (v.substr(0, 2) == "0b" || v.substr(0, 2) == "0x") {
        base = v[1] == 'b' ? 2 : 16;
        v.remove_prefix(2);
    } else if (v.size() > 1 && v[0] == '0') {  // int(v, 8) also takes a 0o prefix
        base = 8;
        v.remove_prefix(v[1] == 'o' || v[1] == 'O' ? 2 : 1);
    } else if (v.find(':') != std::string_view::npos) {
        base = 60;  // sexagesimal: decimal parts separated by ':'
    }
    constexpr auto kLimit = static_cast<unsigned __int128>(1) << 64;
    unsigned __int128 total = 0;
    unsigned __int128 part = 0;
    bool overflow = false;
    bool empty_part = true;
    for (char c : v) {
        if (base == 60 && c == ':') {
            if (empty_part) {
                break;
            }
            total = total * 60 + part;
            overflow = overflow || total > kLimit;
            part = 0;
            empty_part = true;
            continue;
        }
        const unsigned d = digit_value(c);
        if (d >= (base == 60 ? 10 : base)) {
            why = "invalid literal for int(): " + python_quoted(text);
            return std::nullopt;
        }
        part = part * (base == 60 ? 10 : base) + d;
        overflow = overflow || part > kLimit;
        empty_part = false;
    }
    total = base == 60 ? total * 60 + part : part;
    overflow = overflow || total >= kLimit;
    if (empty_part || (overflow && base != 10)) {
        why = empty_part ? "invalid literal for int(): " + python_quoted(text)
                         : "integer too large: " + python_quoted(text);
        return std::nullopt;
    }
    if (overflow) {
        return Json((negative ? "-" : "") + std::string(v));
    }
    const auto magnitude = static_cast<uint64_t>(total);
    if (!negative) {
        return magnitude <= std::numeric_limits<int64_t>::max()
                   ? Json(static_cast<int64_t>(magnitude))
                   : Json(magnitude);
    }
    if (magnitude <= uint64_t{1} << 63) {
        return Json(static_cast<int64_t>(0 - magnitude));
    }
    return Json("-" + std::string(v));
}

// Python's float(text): optional sign, decimal digits or inf/infinity/nan in any case.
std::optional<double> parse_python_float(std::string_view text) {
    const bool negative = !text.empty() && text[0] == '-';
    text.remove_prefix(skip_sign(text));
    if (text.empty() || text[0] == '-' || text[0] == '+') {
        return std::nullopt;
    }
    double d = 0;
    const auto res = std::from_chars(text.data(), text.data() + text.size(), d);
    if (res.ptr != text.data() + text.size() || (text.find('(') != std::string_view::npos)) {
        return std::nullopt;
    }
    if (res.ec == std::errc::result_out_of_range) {  // Python gives inf or 0.0 (or a subnormal)
        d = std::strtod(std::string(text).c_str(), nullptr);
    } else if (res.ec != std::errc()) {
        return std::nullopt;
    }
    return negative ? -d : d;
}

// construct_yaml_float.
std::optional<double> construct_float(std::string_view text) {
    std::string value;
    for (char c : text) {
        if (c != '_') {
            value.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        }
    }
    if (value.empty()) {
        return std::nullopt;
    }
    const double sign = value[0] == '-' ? -1.0 : 1.0;
    value.erase(0, skip_sign(value));
    if (value == ".inf") {
        return sign * std::numeric_limits<double>::infinity();
    }
    if (value == ".nan") {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (value.find(':') == std::string::npos) {
        const auto d = parse_python_float(value);
        return d ? std::optional<double>(sign * *d) : std::nullopt;
    }
    std::vector<double> digits;
    for (size_t start = 0; start <= value.size();) {
        const size_t end = std::min(value.find(':', start), value.size());
        const auto d = parse_python_float(std::string_view(value).substr(start, end - start));
        if (!d) {
            return std::nullopt;
        }
        digits.push_back(*d);
        start = end + 1;
    }
    double result = 0.0;
    double base = 1.0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        result += *it * base;
        base *= 60;
    }
    return sign * result;
}

std::optional<bool> construct_bool(std::string_view text) {
    std::string lower;
    for (char c : text) {
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (lower == "yes" || lower == "true" || lower == "on") {
        return true;
    }
    if (lower == "no" || lower == "false" || lower == "off") {
        return false;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// yaml-cpp node tree → JSON, the way SafeConstructor builds Python objects.

class YamlConverter {
  public:
    YamlConverter(std::string_view text, std::string_view source_name)
        : text_(text),
          source_name_(source_name),
          budget_(kExpansionAllowance + kExpansionFactor * text.size()) {}

    Error error_at(const YAML::Mark& mark, std::string_view reason) const {
        std::string message(source_name_);
        message += ": invalid YAML";
        if (!mark.is_null()) {
            message += " at line " + std::to_string(mark.line + 1) + ", column " +
                       std::to_string(mark.column + 1);
        }
        message += ": ";
        message += reason;
        return Error{std::move(message)};
    }

    Result<Json> convert(const YAML::Node& node) {
        ARUNNER_TRY(spend(node, kNodeCost + (node.IsScalar() ? node.Scalar().size() : 0)));
        if (depth_ >= kMaxDepth) {
            return error_at(node.Mark(), "nesting too deep (or a recursive alias)");
        }
        ++depth_;
        auto result = convert_node(node);
        --depth_;
        return result;
    }

  private:
    using Pairs = std::vector<std::pair<YAML::Node, YAML::Node>>;

    Status spend(const YAML::Node& node, size_t bytes) {
        if (bytes > budget_ - spent_) {
            return error_at(node.Mark(), "the document expands to more than " +
                                             std::to_string(budget_) +
                                             " bytes (aliases repeated too often)");
        }
        spent_ += bytes;
        return {};
    }

    Result<Json> convert_node(const YAML::Node& node) {
        switch (node.Type()) {
            case YAML::NodeType::Undefined:
            case YAML::NodeType::Null:
                return Json(nullptr);
            case YAML::NodeType::Scalar:
                return convert_scalar(node, /*is_key=*/false);
            case YAML::NodeType::Sequence:
                return convert_sequence(node);
            case YAML::NodeType::Map:
                return convert_mapping(node);
        }
        return Json(nullptr);
    }

    // The collection's tag, or an error when it names anything but `want`.
    Status check_collection_tag(const YAML::Node& node, std::string_view want) const {
        const std::string& tag = node.Tag();
        if (tag == "?" || tag == "!" || tag.empty() ||
            (tag.substr(0, kYamlTagPrefix.size()) == kYamlTagPrefix &&
             tag.substr(kYamlTagPrefix.size()) == want)) {
            return {};
        }
        return error_at(node.Mark(),
                        "could not determine a constructor for the tag " + python_quoted(tag));
    }

    // yaml-cpp accepts an empty flow entry (`[a,,b]`, `{"a": 1,,}`, `{: x}`) as a null node that
    // sits on the `,` or `:`; PyYAML refuses it ("expected the node content").
    Status check_not_missing(const YAML::Node& node, std::string_view bad_chars) const {
        const auto pos = node.Mark().pos;
        if (node.IsNull() && pos >= 0 && static_cast<size_t>(pos) < text_.size() &&
            bad_chars.find(text_[static_cast<size_t>(pos)]) != std::string_view::npos) {
            return error_at(node.Mark(), std::string("expected the node content, but found '") +
                                             text_[static_cast<size_t>(pos)] + "'");
        }
        return {};
    }

    Result<Json> convert_sequence(const YAML::Node& node) {
        ARUNNER_TRY(check_collection_tag(node, "seq"));
        Json array = Json::array();
        for (const auto& item : node) {
            ARUNNER_TRY(check_not_missing(item, ","));
            auto value = convert(item);
            if (!value) {
                return value.error();
            }
            array.push_back(std::move(*value));
        }
        return array;
    }

    Result<Json> convert_scalar(const YAML::Node& node, bool is_key) {
        const std::string& tag = node.Tag();
        const std::string& text = node.Scalar();
        std::string_view kind;
        if (tag == "?") {
            kind = resolve_plain(text);
        } else if (tag == "!") {
            kind = "str";
        } else if (tag.substr(0, kYamlTagPrefix.size()) == kYamlTagPrefix) {
            kind = std::string_view(tag).substr(kYamlTagPrefix.size());
        }
        if (kind == "str" || kind == "timestamp" || (kind == "value" && is_key)) {
            return Json(text);
        }
        if (kind == "null") {
            return Json(nullptr);
        }
        if (kind == "bool") {
            if (auto b = construct_bool(text)) {
                return Json(*b);
            }
            return error_at(node.Mark(), "invalid boolean " + python_quoted(text));
        }
        if (kind == "int") {
            std::string why;
            if (auto i = construct_int(text, why)) {
                return std::move(*i);
            }
            return error_at(node.Mark(), why);
        }
        if (kind == "float") {
            if (auto d = construct_float(text)) {
                return Json(*d);
            }
            return error_at(node.Mark(),
                            "could not convert string to float: " + python_quoted(text));
        }
        const std::string full_tag =
            tag == "?" ? std::string(kYamlTagPrefix) + std::string(kind) : tag;
        return error_at(node.Mark(),
                        "could not determine a constructor for the tag " + python_quoted(full_tag));
    }

    static bool is_merge_key(const YAML::Node& key) {
        return key.IsScalar() && ((key.Tag() == "?" && key.Scalar() == "<<") ||
                                  key.Tag() == std::string(kYamlTagPrefix) + "merge");
    }

    // SafeConstructor.flatten_mapping: the pairs of `node` with merge keys replaced by the pairs
    // they merge in, which come first (later pairs win when keys repeat).
    Status flatten(const YAML::Node& node, Pairs& out) {
        if (depth_ >= kMaxDepth) {
            return error_at(node.Mark(), "nesting too deep (or a recursive alias)");
        }
        ++depth_;
        Pairs merged;
        Pairs own;
        Status status;
        for (auto it = node.begin(); it != node.end() && status.ok(); ++it) {
            const YAML::Node key = it->first;
            const YAML::Node value = it->second;
            if (!is_merge_key(key)) {
                status = spend(key, kNodeCost);  // merges of merges copy pairs: they count too
                own.emplace_back(key, value);
            } else if (value.IsMap()) {
                status = flatten(value, merged);
            } else if (value.IsSequence()) {
                std::vector<Pairs> submerge;
                for (const auto& sub : value) {
                    if (!sub.IsMap()) {
                        status = error_at(sub.Mark(), "expected a mapping for merging, but found " +
                                                          node_kind(sub));
                        break;
                    }
                    submerge.emplace_back();
                    status = flatten(sub, submerge.back());
                    if (!status.ok()) {
                        break;
                    }
                }
                for (auto sub = submerge.rbegin(); sub != submerge.rend(); ++sub) {
                    merged.insert(merged.end(), sub->begin(), sub->end());
                }
            } else {
                status = error_at(value.Mark(),
                                  "expected a mapping or list of mappings for merging, but found " +
                                      node_kind(value));
            }
        }
        --depth_;
        out.insert(out.end(), merged.begin(), merged.end());
        out.insert(out.end(), own.begin(), own.end());
        return status;
    }

    static std::string node_kind(const YAML::Node& node) {
        return node.IsSequence() ? "sequence" : node.IsMap() ? "mapping" : "scalar";
    }

    Result<std::string> key_string(const YAML::Node& key) {
        if (key.IsMap() || key.IsSequence()) {
            return error_at(key.Mark(), "found unhashable key");
        }
        ARUNNER_TRY(check_not_missing(key, ",:"));
        if (!key.IsScalar()) {
            return std::string("None");
        }
        auto value = convert_scalar(key, /*is_key=*/true);
        if (!value) {
            return value.error();
        }
        return value->is_string() ? value->get<std::string>() : util::python_str(*value);
    }

    Result<Json> convert_mapping(const YAML::Node& node) {
        ARUNNER_TRY(check_collection_tag(node, "map"));
        Pairs pairs;
        ARUNNER_TRY(flatten(node, pairs));
        Json object = Json::object();
        auto& entries = object.get_ref<Json::object_t&>();
        std::unordered_map<std::string, size_t> index;  // ordered_map looks keys up linearly
        for (const auto& [key_node, value_node] : pairs) {
            auto key = key_string(key_node);
            if (!key) {
                return key.error();
            }
            ARUNNER_TRY(spend(key_node, key->size()));
            auto value = convert(value_node);
            if (!value) {
                return value.error();
            }
            auto [slot, inserted] = index.try_emplace(*key, entries.size());
            if (inserted) {
                static_cast<Json::object_t::Container&>(entries).emplace_back(std::move(*key),
                                                                              std::move(*value));
            } else {
                (entries.begin() + static_cast<std::ptrdiff_t>(slot->second))->second =
                    std::move(*value);
            }
        }
        return object;
    }

    std::string_view text_;
    std::string_view source_name_;
    int depth_ = 0;
    size_t budget_;
    size_t spent_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Files

enum class ReadOutcome {
    kRead,     // the text was read
    kMissing,  // no such file
};

Result<ReadOutcome> read_all(const std::filesystem::path& path, std::string_view display_name,
                             std::string& text) {
    auto failure = [&](int err) {
        return Error{"cannot read " + std::string(display_name) + ": " + std::strerror(err)};
    };
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return ReadOutcome::kMissing;
        }
        return failure(errno);
    }
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return failure(errno);
        }
        if (n == 0) {
            return ReadOutcome::kRead;
        }
        text.append(buffer, static_cast<size_t>(n));
    }
}

// Offset of the first byte that is not part of well-formed UTF-8, or npos.
size_t invalid_utf8_offset(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto lead = static_cast<unsigned char>(s[i]);
        size_t need = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            need = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            need = 2;
            lo = lead == 0xE0 ? 0xA0 : 0x80;
            hi = lead == 0xED ? 0x9F : 0xBF;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            need = 3;
            lo = lead == 0xF0 ? 0x90 : 0x80;
            hi = lead == 0xF4 ? 0x8F : 0xBF;
        } else {
            return i;
        }
        for (size_t k = 1; k <= need; ++k, lo = 0x80, hi = 0xBF) {
            const auto c = i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
            if (c < lo || c > hi) {
                return i;
            }
        }
        i += need + 1;
    }
    return std::string_view::npos;
}

bool python_truthy(const Json& v) {
    switch (v.type()) {
        case Json::value_t::boolean:
            return v.get<bool>();
        case Json::value_t::number_integer:
            return v.get<int64_t>() != 0;
        case Json::value_t::number_unsigned:
            return v.get<uint64_t>() != 0;
        case Json::value_t::number_float:
            return v.get<double>() != 0.0;
        case Json::value_t::string:
        case Json::value_t::array:
        case Json::value_t::object:
        case Json::value_t::binary:
            return !v.empty() && !(v.is_string() && v.get_ref<const std::string&>().empty());
        default:
            return false;
    }
}

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

Result<Json> yaml_to_json(std::string_view text, std::string_view source_name) {
    YamlConverter converter(text, source_name);
    try {
        const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
        if (documents.empty()) {
            return Json(nullptr);
        }
        if (documents.size() > 1) {
            return converter.error_at(documents[1].Mark(),
                                      "expected a single document in the stream");
        }
        return converter.convert(documents[0]);
    } catch (const YAML::Exception& e) {
        return converter.error_at(e.mark, e.msg);
    } catch (const std::exception& e) {
        return Error{std::string(source_name) + ": " + e.what()};
    }
}

Result<std::optional<Json>> load_mapping_file(const std::filesystem::path& path,
                                              std::string_view display_name) {
    std::string text;
    auto outcome = read_all(path, display_name, text);
    if (!outcome) {
        return outcome.error();
    }
    const size_t first = text.find_first_not_of(" \t\r\n\f\v");
    if (*outcome == ReadOutcome::kMissing || first == std::string::npos) {
        return std::optional<Json>();
    }
    // Python reads the file as UTF-8 and fails on anything else.
    if (const size_t bad = invalid_utf8_offset(text); bad != std::string::npos) {
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
    if (json_failure || !python_truthy(value)) {
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

Result<std::optional<std::string>> load_text_file(const std::filesystem::path& path,
                                                  std::string_view display_name) {
    std::string text;
    auto outcome = read_all(path, display_name, text);
    if (!outcome) {
        return outcome.error();
    }
    if (*outcome == ReadOutcome::kMissing) {
        return std::optional<std::string>();
    }
    return std::optional<std::string>(std::move(text));
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
