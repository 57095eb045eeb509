#pragma once
// Text rules borrowed from Python, for byte-compatible output: str.splitlines(keepends=True) and
// decoding UTF-8 with errors='replace' (what pexpect does with the child's output).

#include <string>
#include <string_view>
#include <vector>

namespace arunner::util {

/// Python's `text.splitlines(True)` on UTF-8 text: splits after \n, \r\n, \r, \v, \f, \x1c,
/// \x1d, \x1e, U+0085, U+2028 and U+2029, keeping the separators.
std::vector<std::string_view> split_lines_keep_ends(std::string_view text);

/// `bytes` as valid UTF-8: each invalid sequence becomes U+FFFD, as Python's
/// bytes.decode('utf-8', 'replace'). Returns the input unchanged (no copy) when it is valid.
std::string valid_utf8(std::string_view bytes);

/// Number of '\n' bytes in `text`.
size_t count_newlines(std::string_view text);

/// True when `bytes` is valid UTF-8.
bool is_valid_utf8(std::string_view bytes);

}  // namespace arunner::util
