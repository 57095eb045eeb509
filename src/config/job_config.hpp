#pragma once
// Turns RunOptions plus the private data dir into everything one local run needs: the command,
// its environment and cwd, the artifact dir and the runner settings (ansible-runner's
// RunnerConfig.prepare()).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"
#include "config/runner_settings.hpp"
#include "config/ssh_agent.hpp"
#include "util/environment.hpp"

namespace arunner::config {

/// Where the container's view of the job lives.
inline constexpr const char* kContainerPrivateDataDir = "/runner";
/// Where arunner's callback plugin is mounted read-only inside the container.
inline constexpr const char* kContainerCallbackDir = "/usr/share/arunner/callback";

/// A process-isolated run: what the container is made from (isolation/ turns it into a
/// ContainerSpec). The job's command, env and cwd are then the container's.
struct ContainerJobConfig {
    std::string engine = "podman";  ///< dialect: "podman" or "docker"
    std::string engine_socket;      ///< explicit socket; empty: looked up
    std::string image;
    std::vector<std::string> volume_mounts;   ///< "SRC:DST[:LABELS]" as given
    std::vector<std::string> options;         ///< engine CLI words as given
    std::optional<ContainerAuthData> auth;    ///< registry credentials (container_auth_data)
    std::string workdir;                      ///< inside the container
    std::filesystem::path host_callback_dir;  ///< mounted at kContainerCallbackDir
    std::string name;                         ///< ansible_runner_<sanitized ident>
    /// For a worker container: the worker's command (default `arunner worker`).
    std::vector<std::string> worker_command;
};

/// A run, fully resolved. Paths are absolute.
struct JobConfig {
    std::filesystem::path private_data_dir;
    std::string ident;
    std::filesystem::path artifact_dir;  ///< ART = <artifact root>/<ident>
    std::filesystem::path project_dir;
    std::filesystem::path fact_cache_dir;
    std::vector<std::string> command;
    util::Environment env;
    /// The callback plugin's start-up hook dir (awx_display_boot) as the job sees it: put first
    /// on the job's PYTHONPATH when it starts, never in `env` (docs/frames.md). Empty in a
    /// container, whose secret still travels in its environment.
    std::string python_boot_dir;
    std::filesystem::path cwd;
    RunnerSettings settings;
    RunnerMode runner_mode = RunnerMode::pexpect;
    /// Subprocess mode: the caller's descriptors for the child's stdin, stdout and stderr
    /// (RunOptions input_fd, output_fd, error_fd); -1: /dev/null, captured, captured.
    int input_fd = -1;
    int output_fd = -1;
    int error_fd = -1;
    std::optional<double> job_timeout;
    std::optional<double> idle_timeout;
    double pexpect_timeout = 5.0;
    bool suppress_ansible_output = false;  ///< no console echo
    bool suppress_output_file = false;     ///< no ART/stdout, ART/stderr
    bool json_mode = false;
    /// Prompt pattern -> answer: the passwords option with env/passwords over it.
    std::vector<std::pair<std::string, std::string>> passwords;
    int rotate_artifacts = 0;
    /// Set when the run loads an ssh key into its own ssh-agent (command already wrapped).
    std::optional<SshKeySetup> ssh_key;
    /// Set for a process-isolated run.
    std::optional<ContainerJobConfig> container;
    /// Made for this run only, removed when it ends: a role's generated playbook, and the
    /// project dir when it was made for it (ansible-runner's CLI removes both).
    std::vector<std::filesystem::path> remove_after_run;
    /// The private data dir is a temporary one made because none was given: the Runner removes
    /// it when it is destroyed.
    bool temporary_private_data_dir = false;
    /// Set for a run by a worker in a container (--container-worker, docs/container-worker.md):
    /// the job is streamed into that container, so command, env and cwd are not resolved here
    /// (the worker resolves them); `command` is the worker's command.
    std::optional<ContainerJobConfig> worker_container;
};

/// Validates `options`, reads the private data dir's env/ files and args, and resolves the run.
/// Errors name the option or file at fault. Creates the private data dir (0700) when it does not
/// exist, or a temporary one when none is given. Writes what ansible-runner's dump_artifacts
/// writes: env/cmdline, env/envvars and env/settings from the options when those files do not
/// exist yet (unless suppress_env_files), an inline inventory, a playbook given as plays, a role's
/// generated playbook (docs/inline-inputs.md).
Result<JobConfig> prepare_job(const RunOptions& options);

/// Removes what was made for this run only (JobConfig::remove_after_run: a role's playbook, the
/// project's copy, the sandbox's staging dir) through util::remove_tree, and forgets it.
void remove_made_for_run(JobConfig& job);

/// ansible-runner's container_auth_data mapping (host, username, password, optional verify_ssl),
/// from env/settings or job kwargs; `where` names the source in the errors, which never quote a
/// value.
Result<ContainerAuthData> parse_container_auth(const nlohmann::ordered_json& value,
                                               const std::string& where);

}  // namespace arunner::config
