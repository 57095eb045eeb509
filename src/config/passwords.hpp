#pragma once
// The answers to password prompts (env/passwords and the `passwords` option): which regular
// expression of the job's output gets which answer. Matching is exec/prompt_responder's job;
// this is where the pairs come from and in which order.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "arunner/error.hpp"

namespace arunner::config {

/// Prompt pattern -> answer, in the order they are tried for a tie.
using PasswordAnswers = std::vector<std::pair<std::string, std::string>>;

/// A mapping of pattern -> answer as JSON (a kwargs value or a parsed env/passwords): string
/// answers as they are, numbers and booleans as Python's str() gives them (PyYAML types
/// `1234` as an int); any other answer (null, a list, a mapping) is an error naming `source` and
/// the pattern. Not a mapping: an error naming `source`.
Result<PasswordAnswers> password_answers_from_json(const nlohmann::ordered_json& mapping,
                                                   std::string_view source);

/// The passwords option with env/passwords merged over it, as ansible-runner merges them: an
/// entry of the file replaces the option's entry with the same pattern in place, new patterns
/// follow in the file's order. A missing file leaves the option's entries; an unreadable or
/// malformed one is an error that names it.
Result<PasswordAnswers> load_password_answers(const std::filesystem::path& private_data_dir,
                                              const PasswordAnswers& option);

}  // namespace arunner::config
