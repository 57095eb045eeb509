#pragma once
// `--role-vars 'k1=v1 k2=v2'` as ansible-runner's CLI reads it: split on whitespace, each pair
// on its `=`, each value a Python literal when it is one (ast.literal_eval), else the text.

#include <string>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"

namespace arunner::cli {

/// The variables, in order; an Error names the pair that is not KEY=VALUE.
Result<nlohmann::ordered_json> parse_role_vars(const std::string& text);

/// A Python literal of the kinds role variables use (int, float, True/False/None, a quoted
/// string, a JSON-shaped list or dict), or `text` itself when it is none of these.
nlohmann::ordered_json python_literal_or_text(const std::string& text);

}  // namespace arunner::cli
