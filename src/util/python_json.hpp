#pragma once
// Python-compatible text forms of JSON values: what `json.dumps(v)` and `str(v)` print in
// CPython. Pure functions; safe to call from any thread. Nothing here throws.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace arunner::util {

/// Appends to `out` exactly the bytes Python's `json.dumps(v)` gives (or
/// `json.dumps(v, ensure_ascii=False)` when `ensure_ascii` is false): separators ", " and ": ",
/// keys in stored order, floats as `float.__repr__` (NaN, Infinity, -Infinity for the
/// non-finite ones). With `ensure_ascii` every non-ASCII code point (and DEL) becomes `\uxxxx`,
/// using surrogate pairs above U+FFFF; without it UTF-8 is copied through. Ill-formed UTF-8 in
/// a string is written as U+FFFD, one per maximal ill-formed subpart (as Python's
/// `decode(errors="replace")`). Appends in place; allocates only when `out` grows.
void python_json_dump(const nlohmann::ordered_json& v, std::string& out, bool ensure_ascii = true);

/// Returns what python_json_dump() would append to an empty string.
std::string python_json_dumps(const nlohmann::ordered_json& v, bool ensure_ascii = true);

/// Returns Python's `str()` of the value as `json.loads`/`yaml.safe_load` would have built it:
/// a string as is, `True`/`False`/`None`, integers in decimal, floats as `repr()` (`inf`, `nan`),
/// lists and dicts as their Python repr (`['a', 1, True]`, `{'k': 'v'}`) with Python's quoting
/// and escaping of the strings inside them.
std::string python_str(const nlohmann::ordered_json& v);

/// How deep JSON from a job or a peer may nest: Python's json.loads, and so ansible-runner,
/// stops at its recursion limit (1000). Deeper values would exhaust the stack of whatever walks
/// them recursively (json.dumps-style writers, an embedder's handler, the Python module).
inline constexpr int kMaxJsonDepth = 1000;

/// nlohmann's parse of `raw`, refusing (a discarded value, `too_deep` set) a value nested deeper
/// than kMaxJsonDepth; discarded with `too_deep` unset when `raw` is not JSON.
nlohmann::ordered_json parse_json_bounded(std::string_view raw, bool& too_deep);

}  // namespace arunner::util
