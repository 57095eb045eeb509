#include "cli/role_vars.hpp"

#include <cctype>
#include <sstream>

namespace arunner::cli {

nlohmann::ordered_json python_literal_or_text(const std::string& text) {
    if (text == "True" || text == "False") {
        return text == "True";
    }
    if (text == "None") {
        return nullptr;
    }
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'' &&
        text.find('\'', 1) == text.size() - 1 && text.find('\\') == std::string::npos) {
        return text.substr(1, text.size() - 2);
    }
    if (!text.empty() &&
        (text.front() == '"' || text.front() == '[' || text.front() == '{' || text.front() == '-' ||
         std::isdigit(static_cast<unsigned char>(text[0])))) {
        // JSON's numbers, double-quoted strings, lists and dicts read as Python's do.
        auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
        if (!parsed.is_discarded()) {
            return parsed;
        }
    }
    return text;
}

Result<nlohmann::ordered_json> parse_role_vars(const std::string& text) {
    nlohmann::ordered_json vars = nlohmann::ordered_json::object();
    std::istringstream words(text);
    std::string pair;
    while (words >> pair) {
        auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0 || pair.find('=', eq + 1) != std::string::npos) {
            return Error{"--role-vars: '" + pair +
                         "' is not KEY=VALUE (pairs are separated by spaces, each with one '=')"};
        }
        vars[pair.substr(0, eq)] = python_literal_or_text(pair.substr(eq + 1));
    }
    return vars;
}

}  // namespace arunner::cli
