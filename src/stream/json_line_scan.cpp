#include "stream/json_line_scan.hpp"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "util/text.hpp"

namespace arunner::stream::json_scan {

using Json = nlohmann::ordered_json;

/// Bytes that can be skipped inside a string without a second look.
struct PlainBytes {
    std::array<bool, 256> plain{};
    constexpr PlainBytes() {
        for (int c = 0x20; c < 0x80; ++c) {
            plain[static_cast<size_t>(c)] = c != '"' && c != '\\';
        }
    }
};
constexpr PlainBytes kPlain;
constexpr int kMaxDepth = 256;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool hex4(const char* p, unsigned& out) {
    out = 0;
    for (int i = 0; i < 4; ++i) {
        int d = hex_digit(p[i]);
        if (d < 0) {
            return false;
        }
        out = out << 4 | static_cast<unsigned>(d);
    }
    return true;
}

void append_utf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Decodes the inside of a string the scanner accepted (so every escape in it is well formed).
void decode_string(std::string_view raw, std::string& out) {
    out.reserve(out.size() + raw.size());
    size_t i = 0;
    while (i < raw.size()) {
        size_t backslash = raw.find('\\', i);
        if (backslash == std::string_view::npos) {
            out.append(raw.substr(i));
            return;
        }
        out.append(raw.substr(i, backslash - i));
        char e = raw[backslash + 1];
        i = backslash + 2;
        switch (e) {
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                unsigned cp = 0;
                hex4(raw.data() + i, cp);
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned low = 0;
                    hex4(raw.data() + i + 2, low);
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                append_utf8(cp, out);
                break;
            }
            default:  // " \ /
                out += e;
                break;
        }
    }
}

class Scanner {
  public:
    explicit Scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

    void skip_ws() {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
            ++p_;
        }
    }
    bool at_end() {
        skip_ws();
        return p_ == end_;
    }
    bool consume(char c) {
        skip_ws();
        if (p_ < end_ && *p_ == c) {
            ++p_;
            return true;
        }
        return false;
    }
    char peek() {
        skip_ws();
        return p_ < end_ ? *p_ : '\0';
    }

    /// Skips the bytes of a string that need no second look: not '"', '\\', a control
    /// character or non-ASCII (sixteen at a time where SSE2 is).
    void skip_plain() {
#ifdef __SSE2__
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i backslash = _mm_set1_epi8('\\');
        const __m128i space = _mm_set1_epi8(0x20);
        while (end_ - p_ >= 16) {
            __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
            // Signed: bytes of 0x80 and over are negative, so below ' ' too.
            __m128i stop = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                _mm_cmplt_epi8(chunk, space));
            auto mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
            if (mask != 0) {
                p_ += __builtin_ctz(mask);
                return;
            }
            p_ += 16;
        }
#endif
        while (p_ < end_ && kPlain.plain[static_cast<unsigned char>(*p_)]) {
            ++p_;
        }
    }

    /// A string at the cursor: `raw` is what lies between the quotes, `escaped` whether it holds
    /// a backslash.
    bool string(std::string_view& raw, bool& escaped) {
        skip_ws();
        if (p_ == end_ || *p_ != '"') {
            return false;
        }
        const char* begin = ++p_;
        escaped = false;
        for (;;) {
            skip_plain();
            if (p_ == end_) {
                return false;
            }
            auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                raw = std::string_view(begin, static_cast<size_t>(p_ - begin));
                ++p_;
                return true;
            }
            if (c == '\\') {
                escaped = true;
                if (end_ - p_ < 2) {
                    return false;
                }
                char e = p_[1];
                if (e == 'u') {
                    unsigned cp = 0;
                    if (end_ - p_ < 6 || !hex4(p_ + 2, cp)) {
                        return false;
                    }
                    p_ += 6;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        unsigned low = 0;
                        if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u' || !hex4(p_ + 2, low) ||
                            low < 0xDC00 || low > 0xDFFF) {
                            return false;
                        }
                        p_ += 6;
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return false;
                    }
                } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                           e == 'r' || e == 't') {
                    p_ += 2;
                } else {
                    return false;
                }
            } else if (c < 0x20) {
                return false;
            } else {
                const util::Utf8Char u =
                    util::decode_utf8_char(std::string_view(p_, static_cast<size_t>(end_ - p_)));
                if (!u.valid) {
                    return false;
                }
                p_ += u.length;
            }
        }
    }

    /// A number at the cursor (JSON's grammar); `integer` when it has no fraction or exponent.
    bool number(std::string_view& token, bool& integer) {
        skip_ws();
        const char* begin = p_;
        auto digit = [&] { return p_ < end_ && *p_ >= '0' && *p_ <= '9'; };
        if (p_ < end_ && *p_ == '-') {
            ++p_;
        }
        if (p_ < end_ && *p_ == '0') {
            ++p_;
        } else if (digit()) {
            while (digit()) {
                ++p_;
            }
        } else {
            return false;
        }
        integer = true;
        if (p_ < end_ && *p_ == '.') {
            integer = false;
            ++p_;
            if (!digit()) {
                return false;
            }
            while (digit()) {
                ++p_;
            }
        }
        if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
            integer = false;
            ++p_;
            if (p_ < end_ && (*p_ == '+' || *p_ == '-')) {
                ++p_;
            }
            if (!digit()) {
                return false;
            }
            while (digit()) {
                ++p_;
            }
        }
        token = std::string_view(begin, static_cast<size_t>(p_ - begin));
        // nlohmann reads a number that is not a 64-bit integer with strtod and refuses one that
        // comes out infinite (out_of_range.406, `1e400`); so does the scanner.
        return !overflows_double(token);
    }

    /// Whether `token` (JSON's number grammar) is beyond the largest double. An underflow is
    /// not: nlohmann takes it as zero.
    static bool overflows_double(std::string_view token) {
        // The value is below 10^(k + exponent), k being the number of significant digits
        // before the point, or minus the zeros after it that precede the first nonzero digit.
        size_t i = token[0] == '-' ? 1 : 0;
        int64_t k = 0;
        bool nonzero = false;
        for (; i < token.size() && token[i] >= '0' && token[i] <= '9'; ++i) {
            nonzero = nonzero || token[i] != '0';
            k += nonzero ? 1 : 0;
        }
        if (i < token.size() && token[i] == '.') {
            for (++i; i < token.size() && token[i] >= '0' && token[i] <= '9'; ++i) {
                if (!nonzero && token[i] == '0') {
                    --k;
                }
                nonzero = nonzero || token[i] != '0';
            }
        }
        if (!nonzero) {
            return false;
        }
        int64_t exponent = 0;
        if (i < token.size()) {  // 'e' or 'E', then an optional sign and digits
            ++i;
            const bool negative = token[i] == '-';
            i += token[i] == '-' || token[i] == '+' ? 1 : 0;
            for (; i < token.size(); ++i) {
                exponent = std::min<int64_t>(exponent * 10 + (token[i] - '0'), int64_t{1} << 40);
            }
            exponent = negative ? -exponent : exponent;
        }
        if (k + exponent <= 308) {  // below 1e308, under DBL_MAX
            return false;
        }
        double d = 0;
        const auto r = std::from_chars(token.data(), token.data() + token.size(), d);
        return r.ec == std::errc::result_out_of_range;
    }

    bool literal(std::string_view word) {
        skip_ws();
        if (static_cast<size_t>(end_ - p_) < word.size() ||
            std::memcmp(p_, word.data(), word.size()) != 0) {
            return false;
        }
        p_ += word.size();
        return true;
    }

    /// Validates one value.
    bool skip_value(int depth = 0) {
        if (depth > kMaxDepth) {
            return false;
        }
        std::string_view raw;
        bool flag = false;
        switch (peek()) {
            case '{':
                ++p_;
                if (consume('}')) {
                    return true;
                }
                do {
                    if (!string(raw, flag) || !consume(':') || !skip_value(depth + 1)) {
                        return false;
                    }
                } while (consume(','));
                return consume('}');
            case '[':
                ++p_;
                if (consume(']')) {
                    return true;
                }
                do {
                    if (!skip_value(depth + 1)) {
                        return false;
                    }
                } while (consume(','));
                return consume(']');
            case '"':
                return string(raw, flag);
            case 't':
                return literal("true");
            case 'f':
                return literal("false");
            case 'n':
                return literal("null");
            default:
                return number(raw, flag);
        }
    }

    /// Builds one value as nlohmann's parser would, into `out`: what `out` holds already (the
    /// previous event, usually of the same shape) is overwritten in place, so that its strings,
    /// members and items are reused rather than allocated again.
    bool build_value(Json& out, int depth = 0) {
        if (depth > kMaxDepth) {
            return false;
        }
        std::string_view raw;
        bool flag = false;
        switch (peek()) {
            case '{':
                ++p_;
                return build_object(out, depth);
            case '[': {
                ++p_;
                if (!out.is_array()) {
                    out = Json::array();
                }
                auto& items = out.get_ref<Json::array_t&>();
                size_t placed = 0;
                if (!consume(']')) {
                    do {
                        if (placed == items.size()) {
                            items.emplace_back();
                        }
                        if (!build_value(items[placed], depth + 1)) {
                            return false;
                        }
                        ++placed;
                    } while (consume(','));
                    if (!consume(']')) {
                        return false;
                    }
                }
                items.erase(items.begin() + static_cast<std::ptrdiff_t>(placed), items.end());
                return true;
            }
            case '"': {
                if (!string(raw, flag)) {
                    return false;
                }
                if (!out.is_string()) {
                    out = Json::string_t();
                }
                auto& text = out.get_ref<Json::string_t&>();
                text.clear();
                if (flag) {
                    decode_string(raw, text);
                } else {
                    text.assign(raw);
                }
                return true;
            }
            case 't':
                out = true;
                return literal("true");
            case 'f':
                out = false;
                return literal("false");
            case 'n':
                out = nullptr;
                return literal("null");
            default:
                return build_number(out);
        }
    }

  private:
    /// The members of an object (its '{' consumed) into `out`. While the keys come in the order
    /// the previous value had them, its members are overwritten in place; from the first other
    /// key on, the rest are dropped and each key is emplaced, which, as nlohmann's parser, keeps
    /// a repeated key in its first place with the last value.
    bool build_object(Json& out, int depth) {
        if (!out.is_object()) {
            out = Json::object();
        }
        auto old = out.begin();
        size_t placed = 0;  // members overwritten in place so far
        bool in_place = true;
        std::string_view raw;
        bool escaped = false;
        std::string decoded;
        if (!consume('}')) {
            do {
                if (!string(raw, escaped) || !consume(':')) {
                    return false;
                }
                if (escaped) {
                    decoded.clear();
                    decode_string(raw, decoded);
                    raw = decoded;
                }
                if (in_place && old != out.end() && old.key() == raw) {
                    if (!build_value(old.value(), depth + 1)) {
                        return false;
                    }
                    ++old;
                    ++placed;
                    continue;
                }
                if (in_place) {
                    drop_members_from(out, placed);
                    in_place = false;
                }
                auto member = out.emplace(std::string(raw), Json()).first;
                if (!build_value(member.value(), depth + 1)) {
                    return false;
                }
            } while (consume(','));
            if (!consume('}')) {
                return false;
            }
        }
        if (in_place) {
            drop_members_from(out, placed);
        }
        return true;
    }

    static void drop_members_from(Json& object, size_t n) {
        while (object.size() > n) {
            object.erase(std::prev(object.end()));
        }
    }

    bool build_number(Json& out) {
        std::string_view token;
        bool integer = false;
        if (!number(token, integer)) {
            return false;
        }
        const char* first = token.data();
        const char* last = token.data() + token.size();
        if (integer) {
            // nlohmann: unsigned when there is no sign, signed with one, a double when it does
            // not fit.
            if (token[0] == '-') {
                std::int64_t v = 0;
                auto r = std::from_chars(first, last, v);
                if (r.ec == std::errc() && r.ptr == last) {
                    out = Json(static_cast<Json::number_integer_t>(v));
                    return true;
                }
            } else {
                std::uint64_t v = 0;
                auto r = std::from_chars(first, last, v);
                if (r.ec == std::errc() && r.ptr == last) {
                    out = Json(static_cast<Json::number_unsigned_t>(v));
                    return true;
                }
            }
        }
        double d = 0;
        auto r = std::from_chars(first, last, d);
        if (r.ec == std::errc::result_out_of_range && r.ptr == last) {
            d = token[0] == '-' ? -0.0 : 0.0;  // number() refuses overflows: this is underflow
        } else if (r.ec != std::errc() || r.ptr != last) {
            return false;
        }
        out = Json(static_cast<Json::number_float_t>(d));
        return true;
    }

    const char* p_;
    const char* end_;
};

bool scan_members(std::string_view line, Members& out) {
    Scanner in(line);
    if (!in.consume('{')) {
        return false;
    }
    if (!in.consume('}')) {
        do {
            std::string_view key;
            bool escaped = false;
            if (!in.string(key, escaped) || escaped || !in.consume(':')) {
                return false;
            }
            Member* member = out.find(key);
            if (member == nullptr) {
                if (!in.skip_value(1)) {
                    return false;
                }
                continue;
            }
            if (member->kind != Member::absent) {
                return false;
            }
            switch (in.peek()) {
                case '"':
                    member->kind = Member::string;
                    if (!in.string(member->raw, member->escaped)) {
                        return false;
                    }
                    break;
                case 't':
                    member->kind = Member::boolean_true;
                    if (!in.literal("true")) {
                        return false;
                    }
                    break;
                case 'f':
                    member->kind = Member::boolean_false;
                    if (!in.literal("false")) {
                        return false;
                    }
                    break;
                case 'n':
                    member->kind = Member::null;
                    if (!in.literal("null")) {
                        return false;
                    }
                    break;
                case '{':
                case '[':
                    member->kind = Member::container;
                    if (!in.skip_value(1)) {
                        return false;
                    }
                    break;
                default: {
                    bool integer = false;
                    if (!in.number(member->raw, integer)) {
                        return false;
                    }
                    member->kind = integer ? Member::integer : Member::floating;
                }
            }
        } while (in.consume(','));
        if (!in.consume('}')) {
            return false;
        }
    }
    return in.at_end();
}

/// truthy() of a counter or uuid member; nullopt when only the built value can tell.
std::optional<bool> member_truthy(const Member& m) {
    switch (m.kind) {
        case Member::absent:
        case Member::null:
        case Member::boolean_false:
            return false;
        case Member::boolean_true:
            return true;
        case Member::integer:  // JSON has no leading zeros: zero is "0" or "-0"
            return m.raw.find_first_of("123456789") != std::string_view::npos;
        case Member::string:  // an escape always decodes to at least one character
            return !m.raw.empty();
        default:
            return std::nullopt;
    }
}

bool parse_json(std::string_view text, Json& out) {
    Scanner in(text);
    return in.build_value(out) && in.at_end();
}

}  // namespace arunner::stream::json_scan
