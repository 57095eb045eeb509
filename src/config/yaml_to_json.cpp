#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "config/env_file.hpp"
#include "util/python_json.hpp"
#include "util/strings.hpp"

// yaml_to_json (declared in config/env_file.hpp): YAML parsed by yaml-cpp, typed the way PyYAML's
// safe_load types it.

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
    if (c >= 'a' && c <= 'z') {
        return static_cast<unsigned>(c - 'a' + 10);
    }
    return c >= 'A' && c <= 'Z' ? static_cast<unsigned>(c - 'A' + 10) : 99;
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

// construct_yaml_float.
std::optional<double> construct_float(std::string_view text) {
    std::string value = util::to_lower(text);
    value.erase(std::remove(value.begin(), value.end(), '_'), value.end());
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
        const auto d = util::parse_double(value);
        return d ? std::optional<double>(sign * *d) : std::nullopt;
    }
    std::vector<double> digits;
    for (size_t start = 0; start <= value.size();) {
        const size_t end = std::min(value.find(':', start), value.size());
        const auto d = util::parse_double(std::string_view(value).substr(start, end - start));
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
    const std::string lower = util::to_lower(text);
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
            ARUNNER_ASSIGN_OR_RETURN(Json value, convert(item));
            array.push_back(std::move(value));
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
        // Every merged pair copied up a level counts, so nested merges fail before they copy
        // more than the budget allows (not after building all of it).
        if (status.ok()) {
            status = spend(node, kNodeCost * merged.size());
        }
        if (status.ok()) {
            out.insert(out.end(), merged.begin(), merged.end());
            out.insert(out.end(), own.begin(), own.end());
        }
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
        ARUNNER_ASSIGN_OR_RETURN(Json value, convert_scalar(key, /*is_key=*/true));
        return value.is_string() ? value.get<std::string>() : util::python_str(value);
    }

    Result<Json> convert_mapping(const YAML::Node& node) {
        ARUNNER_TRY(check_collection_tag(node, "map"));
        Pairs pairs;
        ARUNNER_TRY(flatten(node, pairs));
        // Collected aside and handed to ordered_map's range constructor, which takes them as
        // they are: its emplace() would look every key up linearly.
        std::vector<std::pair<std::string, Json>> members;
        std::unordered_map<std::string, size_t> index;
        for (const auto& [key_node, value_node] : pairs) {
            ARUNNER_ASSIGN_OR_RETURN(std::string key, key_string(key_node));
            ARUNNER_TRY(spend(key_node, key.size()));
            ARUNNER_ASSIGN_OR_RETURN(Json value, convert(value_node));
            auto [slot, inserted] = index.try_emplace(key, members.size());
            if (inserted) {
                members.emplace_back(std::move(key), std::move(value));
            } else {
                members[slot->second].second = std::move(value);  // the last value wins
            }
        }
        return Json(Json::object_t(std::make_move_iterator(members.begin()),
                                   std::make_move_iterator(members.end())));
    }

    std::string_view text_;
    std::string_view source_name_;
    int depth_ = 0;
    size_t budget_;
    size_t spent_ = 0;
};

// Counts the documents of a stream and keeps where the second one's root node starts (the mark
// yaml-cpp's node for it would have), without building any nodes.
class DocumentCounter : public YAML::EventHandler {
  public:
    int documents = 0;
    YAML::Mark second_root = YAML::Mark::null_mark();

    void OnDocumentStart(const YAML::Mark&) override {
        ++documents;
        at_root_ = true;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { root(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { root(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        root(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        root(mark);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        root(mark);
    }
    void OnMapEnd() override {}

  private:
    void root(const YAML::Mark& mark) {
        if (at_root_ && documents == 2) {
            second_root = mark;
        }
        at_root_ = false;
    }

    bool at_root_ = false;
};

}  // namespace

Result<Json> yaml_to_json(std::string_view text, std::string_view source_name) {
    YamlConverter converter(text, source_name);
    try {
        // Not YAML::LoadAll: on some inputs (a lone `,`) yaml-cpp 0.7's parser returns an empty
        // document without consuming anything, and LoadAll adds null documents forever
        // (yaml-cpp #1040). Counting documents, and stopping at the second, always ends.
        DocumentCounter counter;
        {
            std::istringstream stream{std::string(text)};
            YAML::Parser parser(stream);
            while (counter.documents < 2 && parser.HandleNextDocument(counter)) {
            }
        }
        if (counter.documents == 0) {
            return Json(nullptr);
        }
        if (counter.documents > 1) {
            return converter.error_at(counter.second_root,
                                      "expected a single document in the stream");
        }
        return converter.convert(YAML::Load(std::string(text)));
    } catch (const YAML::Exception& e) {
        return converter.error_at(e.mark, e.msg);
    } catch (const std::exception& e) {
        return Error{std::string(source_name) + ": " + e.what()};
    }
}

}  // namespace arunner::config
