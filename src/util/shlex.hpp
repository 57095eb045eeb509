#pragma once
// Shell-style word splitting and quoting, byte-compatible with Python's shlex module. Pure
// functions; safe to call from any thread.

#include <string>
#include <string_view>
#include <vector>

#include "arunner/error.hpp"

namespace arunner::util {

/// Splits `text` into words exactly like Python's `shlex.split(text)` (posix mode, no comments,
/// whitespace_split): whitespace is space, tab, CR and LF; single quotes take everything
/// literally; inside double quotes a backslash escapes only `\` and `"`; outside quotes it
/// escapes any character. Adjacent quoted and unquoted parts join into one word, and `''` gives
/// an empty word. Fails with "No closing quotation" or "No escaped character".
Result<std::vector<std::string>> shlex_split(std::string_view text);

/// Quotes `s` for a POSIX shell exactly like Python's `shlex.quote`: unchanged when it is
/// non-empty and made only of ASCII letters, digits and `@%+=:,./-_`; otherwise wrapped in single
/// quotes, with each `'` written as `'"'"'`.
std::string shlex_quote(std::string_view s);

}  // namespace arunner::util
