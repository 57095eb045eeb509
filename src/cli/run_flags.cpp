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
#include "cli/usage.hpp"
#include "util/files.hpp"

namespace arunner::cli {
namespace {

namespace fs = std::filesystem;

/// The raw flags, as typed.
struct RunFlags {
    std::vector<std::string> positionals;
    bool version = false;
    bool debug = false;
    std::string logfile;
    std::string binary, ident, artifact_dir, project_dir, inventory;
    int rotate_artifacts = 0;
    bool json = false, omit_event_data = false, only_failed_event_data = false;
    bool omit_env_files = false, quiet = false;
    int verbosity = 0;
    std::string playbook, module, role, limit, cmdline, hosts, forks, roles_path, role_vars;
    std::string module_args;
    bool role_skip_facts = false;
    bool process_isolation = false;
    std::string process_isolation_executable = "podman", process_isolation_path;
    std::string container_workdir, container_engine_socket;
    std::vector<std::string> hide_paths, show_paths, ro_paths;
    std::string directory_isolation_base_path,
        container_image = "quay.io/ansible/ansible-runner:devel";
    std::vector<std::string> container_volume_mounts, container_options;
};

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

void add_flags(CLI::App& app, RunFlags& f, bool accept_isolation) {
    app.add_option("private_data_dir", f.positionals);
    app.add_flag("--version", f.version);
    app.add_flag("--debug", f.debug);
    app.add_option("--logfile", f.logfile);
    app.add_option("-b,--binary", f.binary);
    app.add_option("-i,--ident", f.ident);
    app.add_option("--rotate-artifacts", f.rotate_artifacts);
    app.add_option("--artifact-dir", f.artifact_dir);
    app.add_option("--project-dir", f.project_dir);
    app.add_option("--inventory", f.inventory);
    app.add_flag("-j,--json", f.json);
    app.add_flag("--omit-event-data", f.omit_event_data);
    app.add_flag("--only-failed-event-data", f.only_failed_event_data);
    app.add_flag("--omit-env-files", f.omit_env_files);
    app.add_flag("-q,--quiet", f.quiet);
    app.add_flag("-v", f.verbosity);
    auto* playbook = app.add_option("-p,--playbook", f.playbook);
    auto* module = app.add_option("-m,--module", f.module);
    auto* role = app.add_option("-r,--role", f.role);
    playbook->excludes(module)->excludes(role);
    module->excludes(role);
    app.add_option("--limit", f.limit);
    app.add_option("--cmdline", f.cmdline);
    app.add_option("--hosts", f.hosts);
    app.add_option("--forks", f.forks);
    app.add_option("--roles-path", f.roles_path);
    app.add_option("--role-vars", f.role_vars);
    app.add_flag("--role-skip-facts", f.role_skip_facts);
    app.add_option("-a,--args", f.module_args);
    app.add_option("--container-image", f.container_image);
    app.add_option("--container-volume-mount", f.container_volume_mounts)->allow_extra_args(false);
    app.add_option("--container-option", f.container_options)->allow_extra_args(false);
    app.add_option("--container-workdir", f.container_workdir);
    app.add_option("--container-engine-socket", f.container_engine_socket);
    if (!accept_isolation) {
        return;  // transmit takes no isolation flags, as ansible-runner
    }
    app.add_flag("--process-isolation", f.process_isolation);
    app.add_option("--process-isolation-executable", f.process_isolation_executable);
    app.add_option("--process-isolation-path", f.process_isolation_path);
    app.add_option("--process-isolation-hide-paths", f.hide_paths);
    app.add_option("--process-isolation-show-paths", f.show_paths);
    app.add_option("--process-isolation-ro-paths", f.ro_paths);
    app.add_option("--directory-isolation-base-path", f.directory_isolation_base_path);
}

/// argparse's wording for the errors CLI11 reports.
std::string argparse_message(const CLI::ParseError& e) {
    std::string what = e.what();
    if (e.get_name() == "ExcludesError") {
        return "argument -p/--playbook, -m/--module and -r/--role are mutually exclusive (" + what +
               ")";
    }
    if (e.get_name() == "ExtrasError") {
        auto colon = what.find(':');
        return "unrecognized arguments:" +
               (colon == std::string::npos ? " " + what : what.substr(colon + 1));
    }
    return what;
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

}  // namespace

std::variant<ParsedRun, int> parse_run_arguments(const std::vector<std::string>& args,
                                                 const char* prog, bool accept_isolation) {
    RunFlags f;
    f.playbook = env_or_empty("RUNNER_PLAYBOOK");
    f.module = env_or_empty("RUNNER_MODULE");
    f.role = env_or_empty("RUNNER_ROLE");
    f.binary = env_or_empty("RUNNER_BINARY");
    f.roles_path = env_or_empty("ANSIBLE_ROLES_PATH");
    CLI::App app("Run a playbook from a private data dir", prog);
    add_flags(app, f, accept_isolation);
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(reversed);  // CLI11 takes the arguments last-first
    } catch (const CLI::CallForHelp&) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    } catch (const CLI::ParseError& e) {
        return usage_error(prog, argparse_message(e));
    }
    if (f.version) {
        std::printf("%s\n", arunner::version());
        return 0;
    }
    if (f.positionals.empty()) {
        return usage_error(prog, "the following arguments are required: private_data_dir");
    }
    if (f.positionals.size() > 1) {
        std::string extra;
        for (size_t i = 1; i < f.positionals.size(); ++i) {
            extra += " " + f.positionals[i];
        }
        return usage_error(prog, "unrecognized arguments:" + extra);
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
    if (!f.inventory.empty()) {
        inventory = resolve_inventory(f.inventory, pdd);
        if (!inventory) {
            std::fputs("Value for --inventory does not appear to be a valid path.\n", stderr);
            return 1;
        }
    }
    auto refuse = [](const std::string& what) {
        std::fprintf(stderr, "arunner: %s is not supported yet\n", what.c_str());
        return 1;
    };
    // --process-isolation-path and the -hide/-show/-ro-paths flags configure ansible-runner's
    // bwrap sandbox, which arunner does not offer; with a container engine they change nothing.
    if (!f.directory_isolation_base_path.empty()) {
        return refuse("--directory-isolation-base-path");
    }
    if (!f.role.empty()) {
        return refuse("-r/--role");
    }

    RunOptions options;
    options.private_data_dir = pdd;
    options.ident = f.ident;
    options.playbook = non_empty(f.playbook);
    options.module = non_empty(f.module);
    options.module_args = non_empty(f.module_args);
    options.host_pattern = non_empty(f.hosts);
    options.binary = non_empty(f.binary);
    options.inventory = inventory;
    options.limit = non_empty(f.limit);
    options.forks = non_empty(f.forks);
    options.verbosity = f.verbosity;
    options.cmdline = non_empty(f.cmdline);
    options.roles_path = non_empty(f.roles_path);
    if (!f.artifact_dir.empty()) {
        options.artifact_dir = f.artifact_dir;
    }
    if (!f.project_dir.empty()) {
        options.project_dir = f.project_dir;
    }
    options.rotate_artifacts = f.rotate_artifacts;
    options.quiet = f.quiet;
    options.json_mode = f.json;
    options.omit_event_data = f.omit_event_data;
    options.only_failed_event_data = f.only_failed_event_data;
    options.suppress_env_files = f.omit_env_files;
    options.process_isolation = f.process_isolation;
    options.process_isolation_executable = f.process_isolation_executable;
    options.container_image = f.container_image;
    options.container_volume_mounts = f.container_volume_mounts;
    options.container_options = f.container_options;
    options.container_workdir = non_empty(f.container_workdir);
    options.container_engine_socket = f.container_engine_socket;

    ParsedRun parsed;
    parsed.options = std::move(options);
    parsed.debug = f.debug;
    parsed.logfile = f.logfile;
    return parsed;
}

}  // namespace arunner::cli
