#pragma once
// `arunner worker cleanup`: removes the private data dirs of finished worker jobs (SPEC §8.6),
// with two deliberate differences from ansible-runner: a dir whose worker still holds its lock is
// never touched (upstream gets this backwards), and a pattern that matches a system directory or
// anything that is not a private data dir is refused as a whole.

#include <cstdio>
#include <string>
#include <vector>

#include "arunner/error.hpp"

namespace arunner::stream {

/// What to clean.
struct CleanupOptions {
    std::string file_pattern;                  ///< a glob; empty = no dirs
    std::vector<std::string> exclude_strings;  ///< skip paths containing any of these
    int grace_period_minutes = 60;             ///< skip dirs modified more recently; 0 = none
};

/// What happened.
struct CleanupResult {
    int removed = 0;
    bool changed = false;
};

/// Removes the matching private data dirs, printing ansible-runner's lines to `out`. An Error
/// (nothing removed) when the pattern matches something it must not.
Result<CleanupResult> cleanup_private_data_dirs(const CleanupOptions& options, std::FILE* out);

}  // namespace arunner::stream
