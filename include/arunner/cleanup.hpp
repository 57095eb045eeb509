#pragma once
// `worker cleanup` as a library call (docs/worker-cleanup.md): ansible-runner's removal of
// finished private data dirs and of images, and arunner's removal of the containers of an
// arunner that is gone. Each step prints ansible-runner's lines to the `out` the caller gives.

#include <cstdio>
#include <string>
#include <vector>

#include "arunner/error.hpp"

namespace arunner {

/// What to clean; each field is a flag of `worker cleanup`.
struct WorkerCleanupOptions {
    std::string file_pattern;                  ///< a glob of private data dirs; empty = none
    std::vector<std::string> exclude_strings;  ///< skip paths containing any of these
    int grace_period_minutes = 60;             ///< skip dirs modified more recently; 0 = none
    std::vector<std::string> remove_images;    ///< image tags to untag
    bool image_prune = false;                  ///< prune dangling images after untagging
    bool containers = false;                   ///< remove containers whose arunner is gone
    std::string executable = "podman";         ///< which engine: podman or docker
};

/// Runs the steps in ansible-runner's order (dirs, images, prune; then containers), printing
/// each removal to `out`. True when anything was removed. An Error (naming the step) stops at
/// the first step that fails; a pattern that matches what it must not removes nothing.
Result<bool> worker_cleanup(const WorkerCleanupOptions& options, std::FILE* out);

}  // namespace arunner
