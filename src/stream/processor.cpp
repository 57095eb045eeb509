#include "stream/processor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "events/async_file_writer.hpp"
#include "events/job_event_writer.hpp"
#include "stream/spool_file.hpp"
#include "stream/wire.hpp"
#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/unique_fd.hpp"

namespace arunner::stream {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::optional<JobStatus> parse_status(const std::string& word) {
    for (JobStatus s :
         {JobStatus::unstarted, JobStatus::starting, JobStatus::running, JobStatus::successful,
          JobStatus::failed, JobStatus::canceled, JobStatus::timeout, JobStatus::error}) {
        if (to_string(s) == word) {
            return s;
        }
    }
    return std::nullopt;
}

/// Python's truth of a value (nlohmann's empty() is false for every string).
bool truthy(const Json& v) {
    if (v.is_null())
        return false;
    if (v.is_boolean())
        return v.get<bool>();
    if (v.is_number())
        return v.get<double>() != 0;
    if (v.is_string())
        return !v.get_ref<const std::string&>().empty();
    if (v.is_array() || v.is_object())
        return !v.empty();
    return true;
}

/// The parse-error explanation, kept under 2,000 characters as ansible-runner's tests require.
std::string parse_error(const std::string& reason, std::string_view line) {
    return "Failed to JSON parse a line from worker stream. Error: " + reason.substr(0, 500) +
           " Line with invalid JSON data: " +
           python_bytes_repr(line.substr(0, 1000)).substr(0, 1300);
}

// ---------------------------------------------------------------------------------------------
// A strict JSON scanner. It accepts only what nlohmann's parser accepts (and declines some of
// that: the caller then asks nlohmann), so that the fast paths below never change what a line
// means: it validates a whole line once, finds the top-level members the processor looks at
// without building anything, and builds the whole ordered_json when an event handler needs it.

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
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
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

/// Length of the well-formed UTF-8 sequence at p (nlohmann's ranges), 0 when it is not one.
size_t utf8_length(const char* p, const char* end) {
    auto in = [&](size_t i, unsigned lo, unsigned hi) {
        if (p + i >= end)
            return false;
        auto c = static_cast<unsigned char>(p[i]);
        return c >= lo && c <= hi;
    };
    auto c = static_cast<unsigned char>(p[0]);
    if (c >= 0xC2 && c <= 0xDF)
        return in(1, 0x80, 0xBF) ? 2 : 0;
    if (c == 0xE0)
        return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    if (c == 0xED)
        return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    if (c == 0xF0)
        return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3)
        return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    if (c == 0xF4)
        return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    return 0;
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
                size_t n = utf8_length(p_, end_);
                if (n == 0) {
                    return false;
                }
                p_ += n;
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
        return true;
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
            case '{': {
                ++p_;
                if (!out.is_object()) {
                    out = Json(nlohmann::detail::value_t::object);
                }
                // The vector under ordered_map (whose own operator[] and erase() mean other
                // things).
                auto& members =
                    static_cast<Json::object_t::Container&>(*out.get_ptr<Json::object_t*>());
                auto drop_from = [&](size_t n) {
                    while (members.size() > n) {
                        members.pop_back();
                    }
                };
                size_t placed = 0;
                if (!consume('}')) {
                    do {
                        if (!string(raw, flag) || !consume(':')) {
                            return false;
                        }
                        std::string decoded;
                        if (flag) {
                            decode_string(raw, decoded);
                            raw = decoded;
                        }
                        if (placed < members.size() && members[placed].first == raw) {
                            // The same key in the same place as before: it cannot be a repeat of
                            // an earlier one, as the keys before it are the old keys too.
                            if (!build_value(members[placed].second, depth + 1)) {
                                return false;
                            }
                            ++placed;
                            continue;
                        }
                        // As nlohmann: a repeated key keeps its first place, takes the last value.
                        auto end = members.begin() + static_cast<std::ptrdiff_t>(placed);
                        auto found = std::find_if(members.begin(), end,
                                                  [&](const auto& m) { return m.first == raw; });
                        if (found != end) {
                            if (!build_value(found->second, depth + 1)) {
                                return false;
                            }
                            continue;
                        }
                        drop_from(placed);
                        members.emplace_back(std::string(raw), Json());
                        if (!build_value(members.back().second, depth + 1)) {
                            return false;
                        }
                        ++placed;
                    } while (consume(','));
                    if (!consume('}')) {
                        return false;
                    }
                }
                drop_from(placed);
                return true;
            }
            case '[': {
                ++p_;
                if (!out.is_array()) {
                    out = Json(nlohmann::detail::value_t::array);
                }
                auto& items = *out.get_ptr<Json::array_t*>();
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
                    out = Json(nlohmann::detail::value_t::string);
                }
                auto& text = *out.get_ptr<std::string*>();
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
        if (r.ec != std::errc() || r.ptr != last) {
            return false;  // out of range: strtod's result is nlohmann's business
        }
        out = Json(static_cast<Json::number_float_t>(d));
        return true;
    }

    const char* p_;
    const char* end_;
};

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

/// JobEventWriter::file_name()'s text of a truthy counter or uuid member; false when only the
/// built value can tell.
bool member_name_text(const Member& m, std::string& out) {
    if (m.kind == Member::string && !m.escaped) {
        out.append(m.raw);
        return true;
    }
    if (m.kind == Member::integer && m.raw.size() <= 18) {  // fits int64: dumped as it came
        out.append(m.raw);
        return true;
    }
    if (m.kind == Member::boolean_true) {
        out.append("true");
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Event files. Creating a file costs the kernel far more than the processor spends on an event,
// so files are written on writer threads in batches (one queue hand-off per batch, not per
// file), relative to an open job_events directory, with no fchmod when the umask leaves 0600
// alone. Each name always goes to the same writer, so a repeated name is written in order.

class EventFiles {
  public:
    EventFiles(fs::path dir, size_t writers) : dir_(std::move(dir)) {
        chmod_always_ = umask_may_strip_0600();
        for (size_t i = 0; i < writers; ++i) {
            writers_.push_back(std::make_unique<events::AsyncFileWriter>(kQueuedBatches));
            batches_.emplace_back();
        }
    }
    ~EventFiles() { (void)finish(); }
    EventFiles(const EventFiles&) = delete;
    EventFiles& operator=(const EventFiles&) = delete;

    /// (Re)opens the directory; finish() first when files may be queued.
    Status open_dir() {
        dirfd_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dirfd_.valid()) {
            return util::errno_error("cannot open", dir_, errno);
        }
        return {};
    }

    Status push(std::string_view name, std::string_view content) {
        // The name comes from the stream's counter and uuid: it must stay inside job_events
        // (ansible-runner would follow a '/' or '..' out of it).
        if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos ||
            name.starts_with("..")) {
            return Error{"event file name '" + std::string(name.substr(0, 200)) +
                         "' (from the event's counter and uuid) would leave job_events"};
        }
        size_t w = writers_.size() == 1 ? 0 : std::hash<std::string_view>()(name) % writers_.size();
        Batch& batch = batches_[w];
        Item item;
        item.name = batch.bytes.size();
        batch.bytes.append(name);
        batch.bytes += '\0';
        item.content = batch.bytes.size();
        item.size = content.size();
        batch.bytes.append(content);
        batch.items.push_back(item);
        if (batch.items.size() >= kBatchFiles || batch.bytes.size() >= kBatchBytes) {
            return send(w);
        }
        return {};
    }

    /// Waits until every pushed file is written; the first error, if any.
    Status finish() {
        Status result;
        for (size_t w = 0; w < writers_.size(); ++w) {
            Status sent = send(w);
            if (!sent && result) {
                result = sent;
            }
        }
        for (auto& writer : writers_) {
            Status done = writer->finish();
            if (!done && result) {
                result = done;
            }
        }
        return result;
    }

  private:
    static constexpr size_t kBatchFiles = 32;
    static constexpr size_t kBatchBytes = 128 * 1024;
    static constexpr size_t kQueuedBatches = 32;

    struct Item {
        size_t name = 0;
        size_t content = 0;
        size_t size = 0;
    };
    struct Batch {
        std::string bytes;
        std::vector<Item> items;
    };

    /// True unless /proc says the umask keeps every bit of 0600 (then a new file's mode is
    /// exactly 0600 and needs no fchmod).
    static bool umask_may_strip_0600() {
        auto status = util::read_file("/proc/self/status");
        if (!status) {
            return true;
        }
        size_t at = status->find("\nUmask:\t");
        if (at == std::string::npos) {
            return true;
        }
        unsigned mask = 0;
        const char* first = status->data() + at + 8;
        auto r = std::from_chars(first, status->data() + status->size(), mask, 8);
        return r.ec != std::errc() || (mask & 0600) != 0;
    }

    Status send(size_t w) {
        if (batches_[w].items.empty()) {
            return {};
        }
        Batch batch = std::move(batches_[w]);
        batches_[w] = Batch();
        batches_[w].bytes.reserve(kBatchBytes + 4096);
        return writers_[w]->push_task(
            [this, batch = std::move(batch)]() { return write_batch(batch); });
    }

    Status write_batch(const Batch& batch) const {
        for (const Item& item : batch.items) {
            const char* name = batch.bytes.data() + item.name;
            std::string_view content(batch.bytes.data() + item.content, item.size);
            ARUNNER_TRY(write_one(name, content));
        }
        return {};
    }

    /// util::write_file(dir_ / name, content, 0600), relative to the open directory.
    Status write_one(const char* name, std::string_view content) const {
        bool chmod = chmod_always_;
        int fd = ::openat(dirfd_.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
            chmod = true;  // an existing file keeps its mode
            fd = ::openat(dirfd_.get(), name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        }
        if (fd < 0) {
            return util::errno_error("cannot write", dir_ / name, errno);
        }
        util::UniqueFd file(fd);
        if (chmod && ::fchmod(fd, 0600) != 0) {
            return util::errno_error("cannot chmod", dir_ / name, errno);
        }
        if (!util::write_all(fd, content)) {
            return util::errno_error("cannot write", dir_ / name, errno);
        }
        return {};
    }

    fs::path dir_;
    util::UniqueFd dirfd_;
    bool chmod_always_ = true;
    std::vector<Batch> batches_;
    // Last: destroyed (joined) first, while what their tasks use is still there.
    std::vector<std::unique_ptr<events::AsyncFileWriter>> writers_;
};

size_t writer_threads() {
    unsigned cores = std::thread::hardware_concurrency();
    // Files in one directory: the kernel serializes much of their creation, and more writers
    // than two were no faster on ext4 or tmpfs (and sometimes slower).
    return std::clamp<size_t>(cores, 1, 2);
}

/// The echo of each event's stdout, as Python's print() to a block-buffered stdout (per line
/// on a terminal).
class Echo {
  public:
    explicit Echo(int fd) : fd_(fd), tty_(fd >= 0 && ::isatty(fd) == 1) {}
    ~Echo() { flush(); }
    Echo(const Echo&) = delete;
    Echo& operator=(const Echo&) = delete;

    void line(std::string_view text) {
        buffer_.append(text);
        buffer_ += '\n';
        if (tty_ || buffer_.size() >= kFlushBytes) {
            flush();
        }
    }
    void flush() {
        if (!buffer_.empty()) {
            (void)util::write_all(fd_, buffer_);
            buffer_.clear();
        }
    }

  private:
    static constexpr size_t kFlushBytes = 64 * 1024;
    int fd_;
    bool tty_;
    std::string buffer_;
};

}  // namespace

namespace detail {

bool fast_parse(std::string_view text, nlohmann::ordered_json& out) {
    Scanner in(text);
    return in.build_value(out) && in.at_end();
}

}  // namespace detail

ProcessResult run_processor(int in_fd, const ProcessorOptions& options) {
    ProcessResult result;
    fs::path pdd = util::absolute_path(options.private_data_dir);
    if (options.artifact_dir) {
        result.artifact_dir = util::absolute_path(*options.artifact_dir);
    } else if (options.ident) {
        result.artifact_dir = pdd / "artifacts" / *options.ident;
    } else {
        result.artifact_dir = pdd / "artifacts";
    }
    const RunCallbacks& cb = options.callbacks;
    const bool echo_stdout = !options.quiet && options.console_fd >= 0;
    Echo echo(options.console_fd);
    auto status_callback = [&](const Json& line) {
        auto status = line["status"].is_string() ? parse_status(line["status"].get<std::string>())
                                                 : std::nullopt;
        result.status = status.value_or(JobStatus::error);
        if (result.status == JobStatus::error) {
            result.error = line.value("job_explanation", "the worker reported an error");
        }
        if (cb.status_handler) {
            StatusUpdate update;
            update.status = result.status;
            update.runner_ident = line.value("runner_ident", "");
            if (line.contains("command") && line["command"].is_array()) {
                for (const auto& word : line["command"]) {
                    update.command.push_back(word.is_string() ? word.get<std::string>()
                                                              : word.dump());
                }
            }
            if (line.contains("env") && line["env"].is_object()) {
                for (const auto& [name, value] : line["env"].items()) {
                    update.env.emplace_back(
                        name, value.is_string() ? value.get<std::string>() : value.dump());
                }
            }
            update.cwd = line.value("cwd", "");
            echo.flush();
            cb.status_handler(update);
        }
    };
    auto error_out = [&](const std::string& explanation) {
        status_callback(Json{{"status", "error"}, {"job_explanation", explanation}});
    };

    fs::path job_events = result.artifact_dir / "job_events";
    if (auto made = util::make_dirs(job_events, 0700); !made) {
        result.status = JobStatus::error;
        result.error = made.error().message;
        return result;
    }
    EventFiles files(job_events, writer_threads());
    if (auto opened = files.open_dir(); !opened) {
        result.status = JobStatus::error;
        result.error = opened.error().message;
        return result;
    }
    WireReader in(in_fd);
    bool saw_eof = false;
    std::string name;
    std::string text;
    std::string dumped;
    Json data;  // reused from line to line: fast_parse() overwrites it in place

    // One line the fast way, when there is no handler: an event or keepalive whose members say
    // plainly what to do, found by one scan of the line. Anything else is declined (nothing was
    // done) and built.
    enum class Fast { declined, done, failed };
    auto fast_event = [&](std::string_view line) -> Fast {
        Members m;
        if (!scan_members(line, m) || m.status.kind != Member::absent ||
            m.zipfile.kind != Member::absent || m.eof.kind != Member::absent) {
            return Fast::declined;
        }
        if (m.event.kind != Member::absent) {
            if (m.event.kind != Member::string || m.event.escaped) {
                return Fast::declined;
            }
            if (m.event.raw == "keepalive") {
                return Fast::done;
            }
        }
        auto counter = member_truthy(m.counter);
        if (counter && !*counter) {
            return Fast::done;
        }
        auto uuid = member_truthy(m.uuid);
        if (!counter || !uuid) {
            return Fast::declined;
        }
        if (!*uuid) {
            return Fast::done;
        }
        name.clear();
        if (!member_name_text(m.counter, name)) {
            return Fast::declined;
        }
        name += '-';
        if (!member_name_text(m.uuid, name)) {
            return Fast::declined;
        }
        name += ".json";
        if (echo_stdout && m.stdout_text.kind != Member::absent) {
            if (m.stdout_text.kind != Member::string) {
                return Fast::declined;
            }
            text.clear();
            decode_string(m.stdout_text.raw, text);
            echo.line(text);  // print(event['stdout'])
        }
        // The event is exactly the line: both ends write Python JSON.
        if (auto written = files.push(name, line); !written) {
            error_out(written.error().message);
            return Fast::failed;
        }
        return Fast::done;
    };

    for (;;) {
        auto line = in.read_line_view();
        if (!line) {
            error_out(line.error().message);
            break;
        }
        if (!*line) {
            break;  // end of stream: reported below unless eof came first
        }
        std::string_view raw = **line;
        if (!cb.event_handler) {
            Fast done = fast_event(raw);
            if (done == Fast::done) {
                continue;
            }
            if (done == Fast::failed) {
                saw_eof = true;
                break;
            }
        }
        if (!detail::fast_parse(raw, data)) {
            data = Json::parse(raw, nullptr, false);
        }
        if (!data.is_object()) {
            std::string reason = data.is_discarded() ? "not valid JSON" : "not a JSON object";
            error_out(parse_error(reason, raw));
            saw_eof = true;  // already reported
            break;
        }
        if (data.contains("status")) {
            status_callback(data);
        } else if (data.contains("zipfile")) {
            // Every event file is written before the artifacts land on top of them (a write
            // error is reported by the next push or at the end, as before).
            (void)files.finish();
            Status unpacked = receive_zip(in, data["zipfile"], result.artifact_dir, options.limits);
            if (!unpacked) {
                error_out("Failed to extract the artifacts from the worker stream: " +
                          unpacked.error().message);
                saw_eof = true;
                break;
            }
            if (auto opened = files.open_dir(); !opened) {
                error_out(opened.error().message);
                saw_eof = true;
                break;
            }
            if (cb.artifacts_handler) {
                echo.flush();
                cb.artifacts_handler(result.artifact_dir);
            }
        } else if (data.contains("eof")) {
            saw_eof = true;
            break;
        } else if (auto event = data.find("event");
                   event != data.end() && event->is_string() && *event == "keepalive") {
            continue;
        } else {
            if (!truthy(data.value("counter", Json())) || !truthy(data.value("uuid", Json()))) {
                continue;
            }
            if (echo_stdout && data.contains("stdout")) {
                echo.line(data["stdout"].is_string() ? data["stdout"].get<std::string>()
                                                     : data["stdout"].dump());
            }
            bool write = true;
            if (cb.event_handler) {
                echo.flush();
                write = cb.event_handler(data);
            }
            if (write) {
                // Without a handler the event is exactly the line (both ends write Python JSON),
                // so the line is written as it came; a handler may have changed the event.
                std::string_view content = raw;
                if (cb.event_handler) {
                    dumped.clear();
                    util::python_json_dump(data, dumped);
                    content = dumped;
                }
                if (auto written = files.push(events::JobEventWriter::file_name(data), content);
                    !written) {
                    error_out(written.error().message);
                    saw_eof = true;
                    break;
                }
            }
        }
    }
    if (auto written = files.finish(); !written && result.status != JobStatus::error) {
        error_out(written.error().message);
    }
    if (!saw_eof) {
        error_out("The worker stream was cut: it ended without {\"eof\": true}.");
    }
    echo.flush();
    return result;
}

}  // namespace arunner::stream
