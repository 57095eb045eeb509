#pragma once
// How a helper query's output becomes its response (ansible-runner's get_* functions).

#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/runner.hpp"

namespace arunner::runner {

/// ansible-runner's sanitize_json_response then json.loads: everything before the first `{`
/// dropped (Ansible's warnings), surrounding whitespace stripped, the rest parsed as one JSON
/// value. The Error names `command` and quotes the first 200 bytes of `out`.
Result<Json> parse_json_response(const std::string& out, const std::vector<std::string>& command,
                                 std::optional<int> rc);

/// The response of a query: null for no output; parsed JSON when `parse` (as above); else the
/// text as it is.
Result<Json> query_response(const std::string& out, bool parse,
                            const std::vector<std::string>& command, std::optional<int> rc);

}  // namespace arunner::runner
