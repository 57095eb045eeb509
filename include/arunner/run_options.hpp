#pragma once
// Everything that configures one run, as typed fields: the CLI's `run` flags and ansible-runner's
// run() keyword arguments. Unset optionals mean "not given" (ansible-runner's None).

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace arunner {

/// How the child's output is connected.
enum class RunnerMode {
    pexpect,     ///< a pseudo-terminal, stdout and stderr merged (ansible-runner's default)
    subprocess,  ///< separate stdout and stderr pipes
};

/// Credentials for the registry a container image is pulled from (ansible-runner's
/// `container_auth_data`). They are sent only to that registry, and only as the engine's
/// registry-auth header: never written to disk, never on an argv, never in an artifact, log,
/// event or message.
struct ContainerAuthData {
    std::string host;  ///< the registry, as the image names it: "quay.io", "127.0.0.1:5000"
    std::string username;
    std::string password;
    /// false: podman skips TLS verification for this registry (dockerd decides that itself,
    /// through its insecure-registries).
    bool verify_ssl = true;
};

/// Options of one run. Paths may be relative to the current directory.
struct RunOptions {
    /// Created (0700) when it does not exist; empty: a temporary directory that the Runner
    /// removes when it is destroyed.
    std::filesystem::path private_data_dir;
    std::string ident;  ///< artifact dir name; empty = a fresh uuid4

    // What to run: exactly one of playbook / module / role (unless `binary` is set).
    std::optional<std::string> playbook;      ///< relative to the project dir, or absolute
    std::optional<std::string> module;        ///< ad hoc module
    std::optional<std::string> module_args;   ///< `-a ARGS` for the module
    std::optional<std::string> host_pattern;  ///< ad hoc host pattern (CLI --hosts with -m)
    std::optional<std::string> role;          ///< run this role through a generated play
    std::optional<std::string> role_hosts;    ///< the generated play's hosts (CLI --hosts with -r)
    nlohmann::ordered_json role_vars = nlohmann::ordered_json::object();
    bool role_skip_facts = false;
    std::optional<std::string> roles_path;  ///< becomes ANSIBLE_ROLES_PATH
    std::optional<std::string> binary;      ///< replaces the executable (raw mode)
    /// The playbook given as plays (a list of mappings, or one mapping): written as JSON to
    /// <project>/main.json, which becomes the playbook (ansible-runner's dump_artifacts).
    nlohmann::ordered_json plays;  ///< null: not given
    /// A command run as it is instead of ansible-playbook/ansible: ansible-runner's
    /// run_command (arunner/commands.hpp). Nothing is added to it; events come from its output.
    std::vector<std::string> command;

    // ansible arguments.
    std::optional<std::string> inventory;  ///< a path (already validated by the CLI)
    /// More inventories, each `-i PATH` after `inventory` (a relative path is taken under
    /// PDD/inventory, as ansible-runner does with a list).
    std::vector<std::string> inventories;
    /// Inventory text (INI or YAML), written to PDD/inventory/hosts (0600) and used.
    std::optional<std::string> inventory_text;
    /// An inventory mapping, written as JSON to PDD/inventory/hosts.json (0600) and used.
    nlohmann::ordered_json inventory_mapping;  ///< null: not given
    std::optional<std::string> limit;
    std::optional<std::string> forks;    ///< kept as text, like ansible-runner
    int verbosity = 0;                   ///< number of -v
    std::optional<std::string> cmdline;  ///< shell words after the executable; replaces env/cmdline
    std::optional<std::string> tags;
    std::optional<std::string> skip_tags;
    /// Extra variables: written to env/extravars (0600) when it does not exist, else to
    /// env/api-extravars-<ident>.json passed after it; never on the command line
    /// (docs/extravars.md).
    nlohmann::ordered_json extravars = nlohmann::ordered_json::object();
    /// Extra variables in a file of the caller's (YAML or JSON): `-e @PATH` after env/extravars.
    /// Relative: under the private data dir, else from the current directory.
    std::optional<std::string> extravars_file;
    /// Environment for the child, applied before env/envvars (the file wins).
    std::vector<std::pair<std::string, std::string>> envvars;
    /// Answers to the job's prompts: a Python regular expression (MULTILINE) matched against the
    /// tail of the output -> the answer, sent with a newline on the job's terminal (pexpect mode
    /// only). env/passwords is merged over these (the file wins). Never written to disk by
    /// arunner, never echoed, never in an artifact (docs/passwords.md).
    std::vector<std::pair<std::string, std::string>> passwords;
    /// Runner settings, merged under env/settings (the file wins).
    nlohmann::ordered_json settings = nlohmann::ordered_json::object();

    // Where things go.
    std::optional<std::filesystem::path> artifact_dir;  ///< artifact root; default PDD/artifacts
    std::optional<std::filesystem::path> project_dir;   ///< default PDD/project
    int rotate_artifacts = 0;                           ///< keep this many newest; 0 = all

    // Output.
    bool quiet = false;  ///< no echo to the console
    /// Where the output is echoed unless quiet: a file descriptor the caller owns (1 = stdout);
    /// -1 echoes nowhere. The library writes nowhere else.
    int console_fd = 1;
    bool json_mode = false;
    bool omit_event_data = false;
    bool only_failed_event_data = false;
    bool suppress_env_files = false;
    std::optional<double> timeout;  ///< job timeout in seconds; overrides settings job_timeout
    /// A private key for the run (ansible-runner's `ssh_key`; wins over env/ssh_key): loaded into
    /// a private ssh-agent through a FIFO, never written to a regular file (docs/ssh-keys.md).
    std::optional<std::string> ssh_key;
    RunnerMode runner_mode = RunnerMode::pexpect;
    /// Subprocess mode only (run_command's input_fd, output_fd, error_fd): descriptors the caller
    /// owns that become the child's stdin, stdout and stderr. Output sent to a descriptor is not
    /// captured (no events, nothing in ART/stdout for it). -1: stdin is /dev/null and the
    /// output is captured.
    int input_fd = -1;
    int output_fd = -1;
    int error_fd = -1;
    /// The cwd of a `command` (default: the current directory); in a container it is mounted
    /// at the same path and becomes the workdir unless container_workdir is set.
    std::optional<std::filesystem::path> host_cwd;

    // Process isolation in a container, through the engine's REST socket (settings
    // process_isolation, process_isolation_executable, container_* override these).
    bool process_isolation = false;
    /// The engine's dialect: "podman" or "docker" (ansible-runner's engine executable).
    std::string process_isolation_executable = "podman";
    /// The execution-environment image (ansible-runner's default); pulled from its registry when
    /// it is not present locally (see the --pull container option); scripts/build-ee builds
    /// localhost/arunner-ee offline.
    std::string container_image = "quay.io/ansible/ansible-runner:devel";
    /// "SRC:DST[:LABELS]" bind mounts (ansible-runner's container_volume_mounts).
    std::vector<std::string> container_volume_mounts;
    /// Engine CLI options, one word each ("--network=host" or "--network", "host"); those the
    /// REST API expresses as fields are translated, any other is refused by name.
    std::vector<std::string> container_options;
    std::optional<std::string> container_workdir;  ///< default /runner/project
    /// Registry credentials for pulling container_image (env/settings container_auth_data wins).
    /// Whether to pull at all is the `--pull=always|missing|never|newer` container option
    /// (default missing, as `podman run`).
    std::optional<ContainerAuthData> container_auth_data;
    /// The engine's socket (a path or unix://path); empty: CONTAINER_HOST, DOCKER_HOST, then
    /// the rootful default sockets.
    std::string container_engine_socket;

    // The bwrap sandbox: process_isolation with any executable other than podman or docker
    // (ansible-runner's bwrap-compatible command line; docs/sandbox.md). The job sees /usr, /etc,
    // /opt and /bin read-only, an empty /tmp, the private data dir, and what these add. Given
    // without the sandbox, each is refused by name. env/settings keys of the same names win.
    /// Where the staging dir for hidden paths is made (default: $TMPDIR, else /tmp).
    std::optional<std::filesystem::path> process_isolation_path;
    /// Paths covered by an empty directory (or empty file) of the same kind.
    std::vector<std::string> process_isolation_hide_paths;
    /// Paths shown read-write, at their own path.
    std::vector<std::string> process_isolation_show_paths;
    /// Paths shown read-only, at their own path.
    std::vector<std::string> process_isolation_ro_paths;
    /// Directory isolation (local and sandboxed runs): the project is copied into a fresh
    /// `runner_di_XXXXXX` under this directory and the run happens there; only that copy is
    /// removed afterwards (kept when env/settings directory_isolation_cleanup is false).
    std::optional<std::filesystem::path> directory_isolation_base_path;

    // A worker in a container (docs/container-worker.md): the job is streamed into a container
    // of `container_image` that runs the worker command, and its events are processed here. The
    // container options, volume mounts, engine socket and timeouts above apply to it.
    /// Unset: env/settings `container_worker` decides; set: this wins over env/settings.
    std::optional<bool> container_worker;
    /// The worker's command in the container; empty: env/settings `container_worker_command`,
    /// else `arunner worker`.
    std::vector<std::string> container_worker_command;
};

}  // namespace arunner
