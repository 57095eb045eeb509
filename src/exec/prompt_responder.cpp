#define PCRE2_CODE_UNIT_WIDTH 8
#include "exec/prompt_responder.hpp"

#include <pcre2.h>

#include <cstring>

#include "util/strings.hpp"
#include "util/text.hpp"

namespace arunner::exec {
namespace {

// Backtracking bounds per match attempt: a pattern such as (a+)+$ stops here instead of
// stalling the supervisor (the attempt then counts as no match).
constexpr uint32_t kMatchLimit = 200'000;
constexpr uint32_t kDepthLimit = 10'000;
constexpr size_t kLastLineBytes = 200;

bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

/// Where the last `chars` characters of `text` start (an invalid byte counts as one).
size_t window_start(std::string_view text, size_t chars) {
    size_t pos = text.size();
    while (pos > 0 && chars > 0) {
        --pos;
        if (!is_continuation(text[pos])) {
            --chars;
        }
    }
    return pos;
}

}  // namespace

struct PromptResponder::Compiled {
    std::string answer_line;
    pcre2_code* code = nullptr;
    pcre2_match_data* match = nullptr;
    pcre2_match_context* context = nullptr;
    ~Compiled() {
        pcre2_match_context_free(context);
        pcre2_match_data_free(match);
        pcre2_code_free(code);
    }
};

Result<PromptResponder> PromptResponder::compile(std::vector<PromptAnswer> prompts,
                                                 std::string_view source) {
    std::vector<std::unique_ptr<Compiled>> compiled;
    for (PromptAnswer& prompt : prompts) {
        auto entry = std::make_unique<Compiled>();
        int error = 0;
        PCRE2_SIZE offset = 0;
        // Python's re on str: Unicode classes; MULTILINE as ansible-runner compiles them.
        const uint32_t options = PCRE2_MULTILINE | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
        entry->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(prompt.pattern.data()),
                                    prompt.pattern.size(), options, &error, &offset, nullptr);
        if (entry->code == nullptr) {
            PCRE2_UCHAR reason[256];
            pcre2_get_error_message(error, reason, sizeof reason);
            return Error{
                std::string(source) + ": the key '" + util::valid_utf8(prompt.pattern) +
                "' is not a valid regular expression: " + reinterpret_cast<const char*>(reason) +
                " at offset " + std::to_string(offset)};
        }
        entry->match = pcre2_match_data_create_from_pattern(entry->code, nullptr);
        entry->context = pcre2_match_context_create(nullptr);
        if (entry->match == nullptr || entry->context == nullptr) {
            return Error{std::string(source) + ": out of memory compiling a password pattern"};
        }
        pcre2_set_match_limit(entry->context, kMatchLimit);
        pcre2_set_depth_limit(entry->context, kDepthLimit);
        entry->answer_line = std::move(prompt.answer);
        entry->answer_line += '\n';
        compiled.push_back(std::move(entry));
    }
    return PromptResponder(std::move(compiled));
}

PromptResponder::PromptResponder(std::vector<std::unique_ptr<Compiled>> compiled)
    : compiled_(std::move(compiled)) {}
PromptResponder::PromptResponder(PromptResponder&&) noexcept = default;
PromptResponder& PromptResponder::operator=(PromptResponder&&) noexcept = default;
PromptResponder::~PromptResponder() = default;

bool PromptResponder::empty() const {
    return compiled_.empty();
}

std::optional<std::string> PromptResponder::on_output(std::string_view bytes) {
    if (compiled_.empty()) {
        return std::nullopt;
    }
    // Keep the window plus some context before it; a large chunk replaces the tail outright,
    // so the cost per chunk does not grow with the chunk.
    constexpr size_t kKeep = kKeptContext + 4 * kSearchWindow;
    if (bytes.size() >= kKeep) {
        tail_.assign(bytes.substr(bytes.size() - kKeep));
    } else {
        tail_.append(bytes);
        if (tail_.size() > 2 * kKeep) {
            tail_.erase(0, tail_.size() - kKeep);
        }
    }
    const size_t start = window_start(tail_, kSearchWindow);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(tail_.data());
    const Compiled* best = nullptr;
    size_t best_start = 0;
    size_t best_end = 0;
    for (const auto& entry : compiled_) {
        // NOTEMPTY: a pattern that can match nothing would otherwise answer every read.
        int rc = pcre2_match(entry->code, subject, tail_.size(), start, PCRE2_NOTEMPTY,
                             entry->match, entry->context);
        if (rc <= 0) {
            continue;  // no match, or the match limit was hit
        }
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(entry->match);
        if (best == nullptr || ovector[0] < best_start) {
            best = entry.get();
            best_start = ovector[0];
            best_end = ovector[1];
        }
    }
    if (best == nullptr) {
        return std::nullopt;
    }
    tail_.erase(0, std::max(best_end, best_start));
    return best->answer_line;
}

void LastLine::feed(std::string_view bytes) {
    size_t newline = bytes.rfind('\n');
    if (newline != std::string_view::npos) {
        line_.assign(bytes.substr(newline + 1));
    } else {
        line_.append(bytes);
    }
    if (line_.size() > 2 * kLastLineBytes) {
        line_.erase(0, line_.size() - kLastLineBytes);
    }
}

std::string LastLine::pending() const {
    std::string_view tail(line_);
    if (tail.size() > kLastLineBytes) {
        tail.remove_prefix(tail.size() - kLastLineBytes);
        while (!tail.empty() && is_continuation(tail.front())) {
            tail.remove_prefix(1);
        }
    }
    std::string printable;
    for (char c : util::valid_utf8(tail)) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7f) {
            printable += c;
        }
    }
    return std::string(util::trim(printable));
}

}  // namespace arunner::exec
