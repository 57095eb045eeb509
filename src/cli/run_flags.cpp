#include "cli/run_flags.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>

#include "arunner/run_options.hpp"
#include "arunner/runner.hpp"
#include "arunner/version.hpp"
#include "cli/role_vars.hpp"
#include "cli/usage.hpp"
#include "util/files.hpp"
#include "util/shlex.hpp"
#include "util/text.hpp"

namespace arunner::cli {
namespace {

namespace fs = std::filesystem;

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

/// The raw flags of run and transmit, as typed.
struct RunFlags {
    std::vector<std::string> positionals;
    CommonFlags common;
    RunnerFlags runner;
    std::string playbook, module, role, limit, cmdline, hosts, forks, roles_path, role_vars;
    std::string module_args;
    bool role_skip_facts = false;
    bool process_isolation = false;
    std::string process_isolation_executable = "podman", process_isolation_path;
    std::string container_workdir, container_engine_socket, container_worker_command;
    bool container_worker = false;
    std::vector<std::string> hide_paths, show_paths, ro_paths;
    std::string directory_isolation_base_path,
        container_image = "quay.io/ansible/ansible-runner:devel";
    std::vector<std::string> container_volume_mounts, container_options;
};

void add_common_flags(CommandLine& line, CommonFlags& flags) {
    CLI::App& app = line.app();
    app.add_flag("--version", flags.version, "show program's version number and exit");
    app.add_flag("--debug", flags.debug,
                 "enable ansible-runner debug output logging (default=False)");
    app.add_option("--logfile", flags.logfile, "log output messages to a file (default=None)");
}

void add_runner_flags(CommandLine& line, RunnerFlags& f) {
    const std::string group = "Ansible Runner Options";
    line.describe_group(group,
                        "configuration options for controlling the ansible-runner runtime "
                        "environment.");
    CLI::App& app = line.app();
    app.add_option("-b,--binary", f.binary,
                   "specifies the full path pointing to the Ansible binaries (default=None)")
        ->group(group);
    app.add_option("-i,--ident", f.ident,
                   "an identifier that will be used when generating the artifacts directory and "
                   "can be used to uniquely identify a playbook run (default=a new UUID)")
        ->group(group);
    app.add_option("--rotate-artifacts", f.rotate_artifacts,
                   "automatically clean up old artifact directories after a given number have "
                   "been created (default=0, disabled)")
        ->group(group);
    app.add_option("--artifact-dir", f.artifact_dir,
                   "optional path for the artifact root directory "
                   "(default=<private_data_dir>/artifacts)")
        ->group(group);
    app.add_option("--project-dir", f.project_dir,
                   "optional path for the location of the playbook content directory "
                   "(default=<private_data_dir>/project)")
        ->group(group);
    app.add_option("--inventory", f.inventory,
                   "optional path for the location of the inventory content directory "
                   "(default=<private_data_dir>/inventory)")
        ->group(group);
    app.add_flag("-j,--json", f.json,
                 "output the JSON event structure to stdout instead of Ansible output "
                 "(default=False)")
        ->group(group);
    app.add_flag("--omit-event-data", f.omit_event_data,
                 "Omits including extra event data in the callback payloads or the Runner "
                 "payload data files (status and stdout still included)")
        ->group(group);
    app.add_flag("--only-failed-event-data", f.only_failed_event_data,
                 "Only adds extra event data for failed tasks in the callback payloads or the "
                 "Runner payload data files (status and stdout still included for other events)")
        ->group(group);
    app.add_flag("--omit-env-files", f.omit_env_files,
                 "Add flag to prevent the writing of the env directory")
        ->group(group);
    app.add_flag("-q,--quiet", f.quiet,
                 "disable all messages sent to stdout/stderr (default=False)")
        ->group(group);
    app.add_flag("-v", f.verbosity,
                 "increase the verbosity with multiple v's (up to 5) of the ansible-playbook "
                 "output (default=None)")
        ->group(group);
}

namespace {

void add_isolation_flags(CLI::App& app, RunFlags& f) {
    app.add_flag("--process-isolation", f.process_isolation,
                 "Isolate execution. Two methods are supported: (1) using a container engine "
                 "(e.g. podman or docker) to execute **Ansible**. (2) using a sandbox (e.g. bwrap) "
                 "which will by default restrict access to /tmp (default=False)");
    app.add_option("--process-isolation-executable", f.process_isolation_executable,
                   "Process isolation executable or container engine used to isolate execution. "
                   "(default=podman)");
    // The bwrap sandbox's flags (docs/sandbox.md): where they cannot apply, the job is refused.
    app.add_option("--process-isolation-path", f.process_isolation_path,
                   "path that an isolated playbook run will use for staging. (default=/tmp)");
    app.add_option("--process-isolation-hide-paths", f.hide_paths,
                   "list of paths on the system that should be hidden from the playbook run "
                   "(default=None)");
    app.add_option("--process-isolation-show-paths", f.show_paths,
                   "list of paths on the system that should be exposed to the playbook run "
                   "(default=None)");
    app.add_option("--process-isolation-ro-paths", f.ro_paths,
                   "list of paths on the system that should be exposed to the playbook run as "
                   "read-only (default=None)");
    app.add_option("--directory-isolation-base-path", f.directory_isolation_base_path,
                   "copies the project directory to a location in this directory to prevent "
                   "multiple simultaneous executions from conflicting (default=None)");
}

void add_flags(CommandLine& line, RunFlags& f, bool accept_isolation) {
    CLI::App& app = line.app();
    app.add_option("private_data_dir", f.positionals,
                   "base directory containing the ansible-runner metadata (project, inventory, "
                   "env, etc)");
    if (accept_isolation) {
        add_isolation_flags(app, f);  // transmit takes no isolation flags, as ansible-runner
    }
    add_common_flags(line, f.common);
    add_runner_flags(line, f.runner);
    auto* playbook = app.add_option("-p,--playbook", f.playbook,
                                    "invoke an Ansible playbook from the ansible-runner project "
                                    "(See Ansible Playbook Options below)");
    auto* module = app.add_option("-m,--module", f.module,
                                  "invoke an Ansible module directly without a playbook (See "
                                  "Ansible Module Options below)");
    auto* role = app.add_option("-r,--role", f.role,
                                "invoke an Ansible role directly without a playbook (See Ansible "
                                "Role Options below)");
    playbook->excludes(module)->excludes(role);
    module->excludes(role);

    std::string group = "Ansible Options";
    line.describe_group(group, "control the ansible[-playbook] execution environment");
    app.add_option("--limit", f.limit,
                   "matches Ansible's ```--limit``` parameter to further constrain the inventory "
                   "to be used (default=None)")
        ->group(group);
    app.add_option("--cmdline", f.cmdline,
                   "command line options to pass to ansible-playbook at execution time "
                   "(default=None)")
        ->group(group);
    app.add_option("--hosts", f.hosts,
                   "define the set of hosts to execute against (default=None) Note: this "
                   "parameter only works with -m or -r")
        ->group(group);
    app.add_option("--forks", f.forks,
                   "matches Ansible's ```--forks``` parameter to set the number of concurrent "
                   "processes (default=None)")
        ->group(group);

    group = "Ansible Role Options";
    line.describe_group(group, "configuration options for directly executing Ansible roles");
    app.add_option("--roles-path", f.roles_path,
                   "path used to locate the role to be executed (default=None)")
        ->group(group);
    app.add_option("--role-vars", f.role_vars,
                   "set of variables to be passed to the role at run time in the form of "
                   "'key1=value1 key2=value2 keyN=valueN'(default=None)")
        ->group(group);
    app.add_flag("--role-skip-facts", f.role_skip_facts,
                 "disable fact collection when the role is executed (default=False)")
        ->group(group);

    group = "Ansible Module Options";
    line.describe_group(group, "configuration options for directly executing Ansible modules");
    app.add_option("-a,--args", f.module_args,
                   "set of arguments to be passed to the module at run time in the form of "
                   "'key1=value1 key2=value2 keyN=valueN'(default=None)")
        ->group(group)
        ->option_text("MODULE_ARGS");

    group = "Ansible Container Options";
    line.describe_group(group, "configuration options for executing Ansible playbooks");
    app.add_option("--container-image", f.container_image,
                   "Container image to use when running an ansible task")
        ->group(group);
    // As argparse's append: one value per flag, so a private data dir after it is not eaten.
    app.add_option("--container-volume-mount", f.container_volume_mounts,
                   "Bind mounts (in the form 'host_dir:/container_dir)'. Can be used more than "
                   "once to create multiple bind mounts.")
        ->group(group)
        ->allow_extra_args(false)
        ->option_text("CONTAINER_VOLUME_MOUNTS");
    app.add_option("--container-option", f.container_options,
                   "Container options to pass to execution engine. Can be used more than once to "
                   "send multiple options.")
        ->group(group)
        ->allow_extra_args(false)
        ->option_text("CONTAINER_OPTIONS");
    app.add_option("--container-workdir", f.container_workdir,
                   "The working directory of the job in the container (default=/runner/project)")
        ->group(group);
    app.add_option("--container-engine-socket", f.container_engine_socket,
                   "The container engine's API socket (default: found from CONTAINER_HOST, "
                   "DOCKER_HOST or the usual places)")
        ->group(group);
    app.add_flag("--container-worker", f.container_worker,
                 "Run the job by a worker inside a container of --container-image: the job is "
                 "streamed into it and its events are processed here (default=False)")
        ->group(group);
    app.add_option("--container-worker-command", f.container_worker_command,
                   "The worker's command inside the container, as shell words "
                   "(default='arunner worker')")
        ->group(group);
}

/// ansible-runner's --inventory check: an existing path (relative to the cwd, or absolute), or
/// one under PDD/inventory; made absolute.
std::optional<std::string> resolve_inventory(const std::string& value, const fs::path& pdd) {
    std::error_code ec;
    if (fs::exists(value, ec)) {
        return util::absolute_path(value).string();
    }
    fs::path under = pdd / "inventory" / value;
    if (!fs::path(value).is_absolute() && fs::exists(under, ec)) {
        return util::absolute_path(under).string();
    }
    return std::nullopt;
}

std::optional<std::string> non_empty(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

/// Parses `args` into `f`: the exit code to leave with (help, version, usage error, no or more
/// than one private data dir), or nullopt.
std::optional<int> parse_flags(CommandLine& line, RunFlags& f,
                               const std::vector<std::string>& args) {
    if (auto exit_code = line.parse(args, true)) {
        return *exit_code;
    }
    if (f.common.version) {
        std::printf("%s\n", arunner::version());
        return 0;
    }
    if (f.positionals.empty()) {
        return line.usage_error("the following arguments are required: private_data_dir");
    }
    if (f.positionals.size() > 1) {
        std::string extra;
        for (size_t i = 1; i < f.positionals.size(); ++i) {
            extra += " " + f.positionals[i];
        }
        return line.usage_error("unrecognized arguments:" + extra);
    }
    return std::nullopt;
}

}  // namespace

std::variant<ParsedRun, int> parse_control_arguments(const std::vector<std::string>& args,
                                                     const char* prog) {
    RunFlags f;
    CommandLine line(prog);
    add_flags(line, f, false);
    if (auto exit_code = parse_flags(line, f, args)) {
        return *exit_code;
    }
    ParsedRun parsed;
    parsed.options.private_data_dir = util::absolute_path(f.positionals[0]);
    parsed.debug = f.common.debug;
    parsed.logfile = f.common.logfile;
    return parsed;
}

void apply_runner_flags(const RunnerFlags& flags, RunOptions& options) {
    if (!flags.artifact_dir.empty()) {
        options.artifact_dir = flags.artifact_dir;
    }
    if (!flags.project_dir.empty()) {
        options.project_dir = flags.project_dir;
    }
    options.rotate_artifacts = flags.rotate_artifacts;
    options.quiet = flags.quiet;
    options.json_mode = flags.json;
    options.omit_event_data = flags.omit_event_data;
    options.only_failed_event_data = flags.only_failed_event_data;
    options.suppress_env_files = flags.omit_env_files;
}

std::variant<ParsedRun, int> parse_run_arguments(const std::vector<std::string>& args,
                                                 const char* prog, bool accept_isolation) {
    RunFlags f;
    f.playbook = env_or_empty("RUNNER_PLAYBOOK");
    f.module = env_or_empty("RUNNER_MODULE");
    f.role = env_or_empty("RUNNER_ROLE");
    f.runner.binary = env_or_empty("RUNNER_BINARY");
    f.roles_path = env_or_empty("ANSIBLE_ROLES_PATH");
    CommandLine line(prog);
    add_flags(line, f, accept_isolation);
    if (auto exit_code = parse_flags(line, f, args)) {
        return *exit_code;
    }

    // ansible-runner's pre-run checks, in its order and with its messages (docs/cli.md).
    if (!f.hosts.empty() && f.module.empty() && f.role.empty()) {
        std::fputs("The --hosts option can only be used with -m or -r\n", stderr);
        return 1;
    }
    if (f.module.empty() && f.role.empty() && f.playbook.empty()) {
        std::fputs("The -p option must be specified when not using -m or -r\n", stderr);
        return 1;
    }
    fs::path pdd = util::absolute_path(f.positionals[0]);
    std::optional<std::string> inventory;
    if (!f.runner.inventory.empty()) {
        inventory = resolve_inventory(f.runner.inventory, pdd);
        if (!inventory) {
            std::fputs("Value for --inventory does not appear to be a valid path.\n", stderr);
            return 1;
        }
    }
    nlohmann::ordered_json role_vars = nlohmann::ordered_json::object();
    if (!f.role_vars.empty()) {
        auto parsed_vars = parse_role_vars(f.role_vars);
        if (!parsed_vars) {
            std::fprintf(stderr, "arunner: %s\n",
                         util::printable(parsed_vars.error().message).c_str());
            return 1;
        }
        role_vars = std::move(*parsed_vars);
    }
    // ansible-runner creates the private data dir (0700) before anything else reads it.
    if (auto made = util::make_dirs(pdd, 0700); !made) {
        std::fprintf(stderr, "arunner: %s\n", util::printable(made.error().message).c_str());
        return 1;
    }

    RunOptions options;
    options.private_data_dir = pdd;
    options.ident = f.runner.ident;
    options.playbook = non_empty(f.playbook);
    options.module = non_empty(f.module);
    options.module_args = non_empty(f.module_args);
    // --hosts is the module's host pattern with -m, the generated play's hosts with -r.
    if (f.role.empty()) {
        options.host_pattern = non_empty(f.hosts);
    } else {
        options.role = f.role;
        options.role_hosts = non_empty(f.hosts);
        options.role_vars = std::move(role_vars);
        options.role_skip_facts = f.role_skip_facts;
    }
    options.binary = non_empty(f.runner.binary);
    options.inventory = inventory;
    options.limit = non_empty(f.limit);
    options.forks = non_empty(f.forks);
    options.verbosity = f.runner.verbosity;
    options.cmdline = non_empty(f.cmdline);
    options.roles_path = non_empty(f.roles_path);
    apply_runner_flags(f.runner, options);
    options.process_isolation = f.process_isolation;
    options.process_isolation_executable = f.process_isolation_executable;
    // Given, even empty ("" is refused by name); transmit has no isolation flags.
    if (accept_isolation && line.app().count("--process-isolation-path") > 0) {
        options.process_isolation_path = f.process_isolation_path;
    }
    options.process_isolation_hide_paths = f.hide_paths;
    options.process_isolation_show_paths = f.show_paths;
    options.process_isolation_ro_paths = f.ro_paths;
    if (accept_isolation && line.app().count("--directory-isolation-base-path") > 0) {
        options.directory_isolation_base_path = f.directory_isolation_base_path;
    }
    options.container_image = f.container_image;
    options.container_volume_mounts = f.container_volume_mounts;
    options.container_options = f.container_options;
    options.container_workdir = non_empty(f.container_workdir);
    options.container_engine_socket = f.container_engine_socket;
    if (f.container_worker) {
        options.container_worker = true;
    }
    if (!f.container_worker_command.empty()) {
        auto words = util::shlex_split(f.container_worker_command);
        if (!words || words->empty()) {
            std::fprintf(
                stderr, "arunner: --container-worker-command: %s\n",
                words ? "no command given" : util::printable(words.error().message).c_str());
            return 1;
        }
        options.container_worker_command = std::move(*words);
    }

    ParsedRun parsed;
    parsed.options = std::move(options);
    parsed.debug = f.common.debug;
    parsed.logfile = f.common.logfile;
    return parsed;
}

}  // namespace arunner::cli

namespace arunner::cli {

std::string run_help(const char* prog, bool accept_isolation) {
    RunFlags f;
    CommandLine line(prog);
    add_flags(line, f, accept_isolation);
    return line.help();
}

}  // namespace arunner::cli
