#include "config/passwords.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "config/env_file.hpp"
#include "util/python_json.hpp"
#include "util/text.hpp"

namespace arunner::config {

Result<PasswordAnswers> password_answers_from_json(const nlohmann::ordered_json& mapping,
                                                   std::string_view source) {
    if (!mapping.is_object()) {
        return Error{std::string(source) + " must be a mapping of prompt pattern to answer"};
    }
    PasswordAnswers answers;
    for (const auto& [pattern, answer] : mapping.items()) {
        if (answer.is_string()) {
            answers.emplace_back(pattern, answer.get<std::string>());
        } else if (answer.is_number() || answer.is_boolean()) {
            answers.emplace_back(pattern, util::python_str(answer));
        } else {
            // Never echo the value: it may be a secret.
            return Error{std::string(source) + ": the answer for '" + util::valid_utf8(pattern) +
                         "' must be a string, not " + std::string(answer.type_name())};
        }
    }
    return answers;
}

Result<PasswordAnswers> load_password_answers(const std::filesystem::path& private_data_dir,
                                              const PasswordAnswers& option) {
    PasswordAnswers answers = option;
    ARUNNER_ASSIGN_OR_RETURN(auto file, load_mapping_file(private_data_dir, "env/passwords"));
    if (!file) {
        return answers;
    }
    ARUNNER_ASSIGN_OR_RETURN(auto from_file, password_answers_from_json(*file, "env/passwords"));
    for (auto& entry : from_file) {
        auto same = std::find_if(answers.begin(), answers.end(),
                                 [&](const auto& known) { return known.first == entry.first; });
        if (same != answers.end()) {
            same->second = std::move(entry.second);
        } else {
            answers.push_back(std::move(entry));
        }
    }
    return answers;
}

}  // namespace arunner::config
