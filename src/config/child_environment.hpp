#pragma once
// The environment a local (not containerized) child gets, built in ansible-runner's order
// (SPEC §3.5) so that ART/command lists it identically.

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/environment.hpp"

namespace arunner::config {

/// What the environment is made of.
struct EnvironmentInputs {
    util::Environment base;  ///< the runner's own environment
    std::vector<std::pair<std::string, std::string>> envvars_option;  ///< the envvars option
    std::vector<std::pair<std::string, std::string>> envvars_file;    ///< env/envvars
    std::string callback_dir;  ///< our callback plugin dir (unless AWX_LIB_DIRECTORY is set)
    bool ad_hoc = false;       ///< module run without a binary
    std::filesystem::path artifact_dir;
    std::filesystem::path fact_cache_dir;
    std::optional<std::string> roles_path;
    bool omit_event_data = false;
    bool only_failed_event_data = false;
};

/// Builds the child environment.
util::Environment build_child_environment(const EnvironmentInputs& inputs);

}  // namespace arunner::config
