#include "config/runner_settings.hpp"

#include <cmath>

#include "util/python_truth.hpp"
#include "util/strings.hpp"

namespace arunner::config {
namespace {

/// A number of seconds; null, false and 0 mean "not set", as Python's `if self.job_timeout`.
Result<std::optional<double>> seconds(const nlohmann::ordered_json& mapping, const char* key,
                                      const std::string& source) {
    auto it = mapping.find(key);
    if (it == mapping.end() || it->is_null()) {
        return std::optional<double>();
    }
    double value = 0;
    if (it->is_number()) {
        value = it->get<double>();
    } else if (it->is_string()) {
        auto number = util::parse_double(it->get<std::string>());
        if (!number) {
            std::string text = it->get<std::string>();
            if (text.size() > 40) {
                text = text.substr(0, 40) + "...";
            }
            return Error{source + ": " + key + " must be a number of seconds, not '" + text + "'"};
        }
        value = *number;
    } else {
        return Error{source + ": " + key + " must be a number of seconds"};
    }
    ARUNNER_TRY(util::check_seconds(value, key, source));
    if (value == 0) {
        return std::optional<double>();
    }
    return std::optional<double>(value);
}

}  // namespace

Result<RunnerSettings> parse_runner_settings(const nlohmann::ordered_json& mapping,
                                             const std::string& source) {
    RunnerSettings settings;
    settings.raw = mapping;
    ARUNNER_ASSIGN_OR_RETURN(settings.job_timeout, seconds(mapping, "job_timeout", source));
    ARUNNER_ASSIGN_OR_RETURN(settings.idle_timeout, seconds(mapping, "idle_timeout", source));
    ARUNNER_ASSIGN_OR_RETURN(settings.subprocess_timeout,
                             seconds(mapping, "subprocess_timeout", source));
    ARUNNER_ASSIGN_OR_RETURN(auto pexpect_timeout, seconds(mapping, "pexpect_timeout", source));
    if (pexpect_timeout) {
        settings.pexpect_timeout = *pexpect_timeout;
    }
    if (auto it = mapping.find("suppress_output_file"); it != mapping.end()) {
        settings.suppress_output_file = util::python_truthy(*it);
    }
    if (auto it = mapping.find("suppress_ansible_output"); it != mapping.end()) {
        settings.suppress_ansible_output = util::python_truthy(*it);
    }
    if (auto it = mapping.find("fact_cache"); it != mapping.end()) {
        if (!it->is_string() || it->get<std::string>().empty()) {
            return Error{source + ": fact_cache must be a directory name"};
        }
        // ansible-runner honours fact_cache only for the jsonfile cache type.
        auto type = mapping.find("fact_cache_type");
        if (type == mapping.end() || *type == "jsonfile") {
            settings.fact_cache = it->get<std::string>();
        }
    }
    return settings;
}

}  // namespace arunner::config
