#pragma once
// The environment a child gets, built in ansible-runner's order so that ART/command lists it
// identically: a local child's (docs/child-process.md) starts from the runner's own environment; a
// containerized one's (docs/containers.md) starts empty and uses the paths inside the container.

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
    /// Inside a container: `base` is ignored, paths are the container's, AWX_LIB_DIRECTORY is
    /// not consulted (callback_dir is where the plugin is mounted).
    bool containerized = false;
    bool podman = false;  ///< containerized on podman: ANSIBLE_UNSAFE_WRITES=1
};

/// Builds the child environment. It never holds ARUNNER_FRAME_FD or ARUNNER_FRAME_SECRET (the
/// frame secret is handed over at spawn or container create time, so that ART/command and
/// env.list cannot record it).
util::Environment build_child_environment(const EnvironmentInputs& inputs);

}  // namespace arunner::config
