#pragma once
// Small text jobs done one way: ASCII trimming and lowering, and locale-free number parsing
// (std::from_chars: "1.5" means 1.5 whatever LC_NUMERIC says, and the whole text must be the
// number).

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "arunner/error.hpp"

namespace arunner::util {

/// `text` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r).
std::string_view trim(std::string_view text);

/// `text` with ASCII letters lowered; other bytes (UTF-8 included) are kept as they are.
std::string to_lower(std::string_view text);

/// True when `a` and `b` are equal ignoring ASCII case (HTTP header names, words in settings).
bool equals_ignoring_case(std::string_view a, std::string_view b);

/// The integer `text` spells in `base`, when the whole text is one (no sign for unsigned T, no
/// leading '+', no spaces) and it fits T; nullopt otherwise.
template <typename T>
std::optional<T> parse_int(std::string_view text, int base = 10) {
    static_assert(std::is_integral_v<T>);
    T value{};
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

/// The number `text` spells, as Python's float() reads it without spaces: an optional sign
/// ('+' included), digits, a fraction, an exponent, "inf"/"infinity"/"nan" in any case; beyond
/// the largest double it is infinity, below the smallest zero (float("1e400") is inf). nullopt
/// unless the whole text is one. Locale-free; no '_' between digits (float() takes them).
std::optional<double> parse_double(std::string_view text);

/// The longest timeout (job_timeout, idle_timeout, pexpect_timeout, the timeout option, the
/// worker's keepalive) arunner accepts: ten years, in seconds. Longer, infinite, NaN or negative
/// values are refused with an error naming the key (a huge one used to overflow and end the job
/// at once as `timeout`).
inline constexpr double kMaxSeconds = 10.0 * 365 * 24 * 3600;

/// An Error naming `key` (and `source`, when not empty) unless `value` is a finite number of
/// seconds in [0, kMaxSeconds].
Status check_seconds(double value, const std::string& key, const std::string& source);

/// "5 s" for a whole number of seconds, else "250 ms": how timeouts are named in messages.
std::string duration_text(long long milliseconds);

}  // namespace arunner::util
