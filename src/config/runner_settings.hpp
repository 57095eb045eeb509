#pragma once
// Runner settings (env/settings merged over the settings option), typed. Settings configure
// arunner only; they never reach ansible's command line.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"

namespace arunner::config {

/// The highest verbosity accepted (`-v` repeated; ansible itself stops getting louder at 6).
inline constexpr int kMaxVerbosity = 100;

/// The highest --forks accepted.
inline constexpr long long kMaxForks = 100000;

/// The settings one local run uses (docs/settings.md).
struct RunnerSettings {
    std::optional<double> job_timeout;   ///< seconds of wall clock; unset or 0 = none
    std::optional<double> idle_timeout;  ///< seconds without output; unset or 0 = none
    /// A command's limit in subprocess mode (ansible-runner's run_command and helpers).
    std::optional<double> subprocess_timeout;
    double pexpect_timeout = 5.0;                 ///< how often cancellation is polled, seconds
    bool suppress_output_file = false;            ///< no ART/stdout and ART/stderr
    std::optional<bool> suppress_ansible_output;  ///< no console echo; unset = the quiet option
    std::optional<std::string> fact_cache;        ///< fact cache dir name under ART
    nlohmann::ordered_json raw = nlohmann::ordered_json::object();  ///< everything, as merged
};

/// Reads the known keys of a settings mapping. A key of the wrong type is an error that names
/// the key and `source` (e.g. "env/settings").
Result<RunnerSettings> parse_runner_settings(const nlohmann::ordered_json& mapping,
                                             const std::string& source);

}  // namespace arunner::config
