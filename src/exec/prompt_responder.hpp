#pragma once
// Answers password prompts the way ansible-runner's pexpect loop does (env/passwords: regex ->
// answer): each pattern is a Python-style regular expression compiled MULTILINE; when the
// child's output matches one, the answer and a newline are written to the child's terminal.
//
// Only the tail of the output is looked at, as pexpect's searchwindowsize=100: a match must
// start within the last 100 characters of the text not yet consumed by an earlier match, so a
// job that prints gigabytes costs a bounded amount of work per chunk. Where several patterns
// match, the one starting first wins, and among those the first in the list. Text up to the end
// of a match is consumed. Patterns are PCRE2 (Python's `re` syntax for everything a prompt
// pattern uses: classes, `(?P<name>)`, lookarounds, `(?i)`), in Unicode mode, with a match
// limit so that no pattern can stall the job (docs/passwords.md).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arunner/error.hpp"

namespace arunner::exec {

/// One prompt: the pattern as written and the answer (without the newline).
struct PromptAnswer {
    std::string pattern;
    std::string answer;
};

class PromptResponder {
  public:
    /// How many characters a match may start before the end of the output (pexpect's window).
    static constexpr size_t kSearchWindow = 100;
    /// Text kept before the window, for lookbehinds and `^`; older output is dropped.
    static constexpr size_t kKeptContext = 4096;

    /// Compiles every pattern; the error names the first pattern that does not compile and
    /// PCRE2's reason and offset. `source` names where they came from ("env/passwords").
    static Result<PromptResponder> compile(std::vector<PromptAnswer> prompts,
                                           std::string_view source);

    PromptResponder(PromptResponder&&) noexcept;
    PromptResponder& operator=(PromptResponder&&) noexcept;
    ~PromptResponder();

    /// Feeds output; returns what to write to the child when a prompt matched: its answer and
    /// "\n" (at most one answer per call, as pexpect answers once per read).
    std::optional<std::string> on_output(std::string_view bytes);

    bool empty() const;

  private:
    struct Compiled;
    explicit PromptResponder(std::vector<std::unique_ptr<Compiled>> compiled);
    std::vector<std::unique_ptr<Compiled>> compiled_;
    std::string tail_;  ///< unconsumed output, at most kKeptContext + a chunk
};

/// Tracks the last line of a job's output (without a responder), for the message when a job
/// ends by idle_timeout while a prompt waited for an answer.
class LastLine {
  public:
    void feed(std::string_view bytes);
    /// The last line when it does not end in a newline (a prompt waiting for input): at most
    /// 200 bytes of it, valid UTF-8, control characters and surrounding blanks removed; empty
    /// when the output ends with a newline.
    std::string pending() const;

  private:
    std::string line_;
};

}  // namespace arunner::exec
