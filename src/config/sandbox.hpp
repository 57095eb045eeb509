#pragma once
// ansible-runner's bwrap sandbox and its directory isolation (SPEC §7.5, §8.1; docs/sandbox.md):
// their settings, the refusals where they cannot apply, the staging dir whose empty items cover
// hidden paths, the project's copy, and the bwrap command line around a job's command.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"
#include "config/job_config.hpp"

namespace arunner::config {

/// The sandbox's path settings and directory isolation: RunOptions, env/settings over them.
struct IsolationPaths {
    std::optional<std::filesystem::path> staging_base;    ///< process_isolation_path
    std::vector<std::string> hide;                        ///< process_isolation_hide_paths
    std::vector<std::string> show;                        ///< process_isolation_show_paths
    std::vector<std::string> ro;                          ///< process_isolation_ro_paths
    std::optional<std::filesystem::path> directory_base;  ///< directory_isolation_base_path
    bool directory_cleanup = true;                        ///< directory_isolation_cleanup
    bool directory_cleanup_given = false;  ///< env/settings has directory_isolation_cleanup
};

/// Reads them from `options` and env/settings (`settings`); a path setting there may be one
/// path or a list of paths. Errors name the setting.
Result<IsolationPaths> read_isolation_paths(const RunOptions& options,
                                            const nlohmann::ordered_json& settings);

/// How a job is isolated, for refusing the settings that cannot apply to it.
enum class IsolationKind { none, sandbox, container, worker_container, command };

/// Refuses, naming it, every setting of `paths` that `kind` cannot honour: the four sandbox
/// settings outside the sandbox, directory isolation in containers and for commands.
Status check_isolation_paths(const IsolationPaths& paths, IsolationKind kind,
                             const std::string& engine);

/// One mount of the sandbox, besides the system's.
struct SandboxMount {
    enum class Kind { show, read_only, hide };  ///< in this order for the same path: hide wins
    Kind kind = Kind::show;
    std::filesystem::path path;    ///< where the job sees it
    std::filesystem::path source;  ///< hide: the empty item covering it; else = path
};

/// The root entries the sandbox mirrors from the host: /lib, /lib64, /sbin, /lib32, /libx32 as
/// symlinks (merged /usr, Debian 12) or read-only directories, and whether /opt exists.
struct HostRoot {
    struct Entry {
        std::string path;
        std::string link_target;  ///< empty: a directory, bound read-only
    };
    std::vector<Entry> entries;
    bool has_opt = true;
};
HostRoot read_host_root();

/// A sandbox ready to wrap a command.
struct SandboxPlan {
    std::string executable;
    std::vector<SandboxMount> mounts;  ///< sorted by path, so a parent is mounted before its
                                       ///< children (and cannot cover a hidden child)
    std::filesystem::path chdir;
    std::filesystem::path staging_dir;  ///< made by plan_sandbox; removed after the run
};

/// Makes the staging dir `ansible_runner_pi_XXXXXX` (0700) under `paths.staging_base` (default
/// $TMPDIR, else /tmp) and an empty directory (0700) or file (0600) in it for each hidden path
/// that exists, then resolves the hidden, read-only and shown paths (real paths; missing ones
/// skipped, as ansible-runner) around `implicit`, the mounts every job needs (taken as they
/// are). On error nothing is left behind.
Result<SandboxPlan> plan_sandbox(const IsolationPaths& paths, const std::string& executable,
                                 std::vector<SandboxMount> implicit,
                                 const std::filesystem::path& chdir);

/// bwrap's command line around `command`: ansible-runner's (SPEC §7.5), with the host's /lib
/// entries mirrored and the user's mounts ordered parents first.
std::vector<std::string> sandbox_command(const SandboxPlan& plan, const HostRoot& root,
                                         const std::vector<std::string>& command);

/// Directory isolation and the sandbox for a resolved job (called last by prepare_job): the
/// project copied into `runner_di_XXXXXX` under the base path (the cwd moves there), then
/// job.command wrapped in the sandbox when `sandbox_executable` is set. What it makes is added
/// to job.remove_after_run (the copy only when directory_isolation_cleanup holds).
/// The sandbox also shows `callback_dir` (arunner's callback plugin) read-only. `options` says
/// whether the project and artifact dirs were set (else they must stay inside the private data
/// dir) and whether this is a module run (which runs from the private data dir).
Status apply_isolation(const IsolationPaths& paths,
                       const std::optional<std::string>& sandbox_executable,
                       const RunOptions& options, const std::filesystem::path& callback_dir,
                       JobConfig& job);

}  // namespace arunner::config
