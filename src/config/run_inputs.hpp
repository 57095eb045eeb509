#pragma once
// The files and directories of a private data dir that arunner reads to decide how a run is
// made: env/ (settings, envvars, cmdline, passwords, ssh_key), args, inventory/, and a daemon's
// pid and daemon.log. A job isolated in a container or the sandbox sees them read-only, so it
// cannot turn the next run's isolation off, make arunner read a host file through a planted
// link, or hang or fool `is-alive` and `stop` (docs/private-data-dir-trust.md).

#include <filesystem>
#include <vector>

#include "arunner/error.hpp"

namespace arunner::config {

/// One run input that exists.
struct RunInput {
    /// Its name in the private data dir ("env", "args", …).
    std::filesystem::path name;
    /// Where it really is, links resolved.
    std::filesystem::path real;
};

/// The run inputs present in `pdd` (a real, absolute path), in a fixed order; a dangling link
/// is left out.
std::vector<RunInput> present_run_inputs(const std::filesystem::path& pdd);

/// Creates PDD/env (0700) when it is missing, so that an isolated job, which sees it
/// read-only, cannot create it and fill it for the next run.
Status make_env_dir(const std::filesystem::path& pdd);

/// `path` with its symlinks resolved; empty when it does not exist.
std::filesystem::path real_path(const std::filesystem::path& path);

/// True when `path` is `dir` or below it (both real, absolute paths).
bool is_within(const std::filesystem::path& path, const std::filesystem::path& dir);

}  // namespace arunner::config
