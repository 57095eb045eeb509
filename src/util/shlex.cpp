#include "util/shlex.hpp"

namespace arunner::util {

namespace {

bool is_shlex_whitespace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

// A transcription of shlex.read_token for posix=True, whitespace_split=True, commenters='' and
// no punctuation_chars. Working on UTF-8 bytes gives the same result as Python's code points:
// every character with a meaning here is ASCII. A closing quote always leads to kWord, so a word
// that had only quoted parts (even empty ones) is still emitted.
Result<std::vector<std::string>> shlex_split(std::string_view text) {
    enum class State {
        kWhitespace,    // between words
        kWord,          // inside an unquoted part of a word
        kSingleQuoted,  // inside '...'
        kDoubleQuoted,  // inside "..."
        kEscape,        // just after a backslash
    };
    std::vector<std::string> words;
    std::string token;
    State state = State::kWhitespace;
    State escaped_from = State::kWord;  // where a backslash came from

    for (char c : text) {
        switch (state) {
            case State::kWhitespace:
            case State::kWord:
                if (is_shlex_whitespace(c)) {
                    if (state == State::kWord) {
                        words.push_back(std::move(token));
                        token.clear();
                    }
                    state = State::kWhitespace;
                } else if (c == '\\') {
                    escaped_from = State::kWord;
                    state = State::kEscape;
                } else if (c == '\'') {
                    state = State::kSingleQuoted;
                } else if (c == '"') {
                    state = State::kDoubleQuoted;
                } else {
                    token.push_back(c);
                    state = State::kWord;
                }
                break;
            case State::kSingleQuoted:
            case State::kDoubleQuoted:
                if ((c == '\'' && state == State::kSingleQuoted) ||
                    (c == '"' && state == State::kDoubleQuoted)) {
                    state = State::kWord;
                } else if (c == '\\' && state == State::kDoubleQuoted) {
                    escaped_from = State::kDoubleQuoted;
                    state = State::kEscape;
                } else {
                    token.push_back(c);
                }
                break;
            case State::kEscape:
                // In posix shells only the quote itself or the escape character may be escaped
                // within quotes.
                if (escaped_from == State::kDoubleQuoted && c != '\\' && c != '"') {
                    token.push_back('\\');
                }
                token.push_back(c);
                state = escaped_from;
                break;
        }
    }
    switch (state) {
        case State::kSingleQuoted:
        case State::kDoubleQuoted:
            return Error{"No closing quotation"};
        case State::kEscape:
            return Error{"No escaped character"};
        case State::kWord:
            words.push_back(std::move(token));
            break;
        case State::kWhitespace:
            break;
    }
    return words;
}

std::string shlex_quote(std::string_view s) {
    if (s.empty()) {
        return "''";
    }
    bool safe = true;
    for (char c : s) {
        const bool word =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!word && std::string_view("@%+=:,./-").find(c) == std::string_view::npos) {
            safe = false;
            break;
        }
    }
    if (safe) {
        return std::string(s);
    }
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('\'');
    for (char c : s) {
        if (c == '\'') {
            out += "'\"'\"'";
        } else {
            out.push_back(c);
        }
    }
    out.push_back('\'');
    return out;
}

}  // namespace arunner::util
