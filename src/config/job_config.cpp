#include "config/job_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>

#include "config/ansible_command.hpp"
#include "config/callback_dir.hpp"
#include "config/child_environment.hpp"
#include "config/command_job.hpp"
#include "config/env_file.hpp"
#include "config/generated_inputs.hpp"
#include "config/passwords.hpp"
#include "config/run_inputs.hpp"
#include "config/sandbox.hpp"
#include "config/ssh_agent.hpp"
#include "util/files.hpp"
#include "util/python_json.hpp"
#include "util/python_truth.hpp"
#include "util/shlex.hpp"
#include "util/strings.hpp"
#include "util/temp_dir.hpp"
#include "util/text.hpp"
#include "util/unique_fd.hpp"
#include "util/uuid.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
}

Result<std::vector<std::string>> split_words(const std::string& text, const std::string& source) {
    auto words = util::shlex_split(text);
    if (!words) {
        return Error{source + ": cannot split into words: " + words.error().message};
    }
    return std::move(words.value());
}

/// The cmdline option, written to env/cmdline the way ansible-runner's dump_artifacts does.
Status dump_cmdline(const fs::path& pdd, const std::string& cmdline) {
    ARUNNER_TRY(util::make_dirs(pdd / "env", 0700));
    return util::write_file(pdd / "env" / "cmdline", cmdline, 0600);
}

/// Writes `text` to `name` in the private data dir's env/ (created 0700 if missing) with mode
/// 0600, never through a symlink. `exclusive`: only when the file does not exist yet (false
/// then, and nothing written, when it does).
Result<bool> write_env_file(const fs::path& pdd, const std::string& name, const std::string& text,
                            bool exclusive) {
    ARUNNER_TRY(util::make_dirs(pdd / "env", 0700));
    util::UniqueFd env(
        ::open((pdd / "env").c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!env.valid()) {
        return util::errno_error("cannot open", pdd / "env", errno);
    }
    int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
    util::UniqueFd fd(::openat(env.get(), name.c_str(), flags, 0600));
    if (!fd.valid() && exclusive && errno == EEXIST) {
        return false;
    }
    if (!fd.valid()) {
        return util::errno_error("cannot write", pdd / "env" / name, errno);
    }
    // An existing file keeps its mode through O_TRUNC: the values are secrets, so 0600 it is.
    if (::fchmod(fd.get(), 0600) != 0 || !util::write_all(fd.get(), text)) {
        return util::errno_error("cannot write", pdd / "env" / name, errno);
    }
    return true;
}

/// The API's extravars as ansible-runner passes them, but never as values on the command line
/// (docs/extravars.md): written to env/extravars (0600) when that file does not exist, else to
/// env/api-extravars-<ident>.json, passed with `-e @` after env/extravars so they still win.
Status place_api_extravars(const RunOptions& options, const fs::path& pdd,
                           const fs::path& inner_pdd, const std::string& ident,
                           CommandInputs& command) {
    bool has_file = is_file(pdd / "env" / "extravars");
    if (has_file) {
        command.extravars_file = (inner_pdd / "env" / "extravars").string();
    }
    if (options.extravars_file) {
        if (options.extravars.is_object() && !options.extravars.empty()) {
            return Error{"extravars are given both as a mapping and as a file: give one"};
        }
        fs::path file = *options.extravars_file;
        if (file.is_relative() && util::path_exists(pdd / file)) {
            file = pdd / file;
        }
        if (!is_file(file)) {
            return Error{"extravars file '" + *options.extravars_file +
                         "' is found neither under the private data dir nor from the current "
                         "directory"};
        }
        file = util::absolute_path(file);
        if (inner_pdd != pdd) {
            auto relative = file.lexically_relative(pdd);
            if (relative.empty() || *relative.begin() == "..") {
                return Error{"extravars file '" + file.string() +
                             "' is outside the private data dir, so a process-isolated job "
                             "cannot read it"};
            }
            file = inner_pdd / relative;
        }
        command.api_extravars_file = file.string();
        return {};
    }
    if (!options.extravars.is_object() || options.extravars.empty()) {
        return {};
    }
    const std::string text = util::python_json_dumps(options.extravars);
    if (!has_file && !options.suppress_env_files) {
        ARUNNER_ASSIGN_OR_RETURN(auto written,
                                 write_env_file(pdd, "extravars", text, /*exclusive=*/true));
        if (written) {
            command.extravars_file = (inner_pdd / "env" / "extravars").string();
            return {};
        }
        command.extravars_file = (inner_pdd / "env" / "extravars").string();  // appeared meanwhile
    }
    const std::string name = "api-extravars-" + ident + ".json";
    ARUNNER_TRY(write_env_file(pdd, name, text, /*exclusive=*/false));
    command.api_extravars_file = (inner_pdd / "env" / name).string();
    return {};
}

/// --forks: a whole number in [1, kMaxForks], as ansible accepts it.
Status check_forks(const std::optional<std::string>& forks) {
    if (!forks || forks->empty()) {
        return {};
    }
    long long value = 0;
    const char* end = forks->data() + forks->size();
    auto [ptr, ec] = std::from_chars(forks->data(), end, value);
    if (ec != std::errc() || ptr != end || value < 1 || value > kMaxForks) {
        std::string shown = forks->size() > 40 ? forks->substr(0, 40) + "..." : *forks;
        return Error{"forks must be a whole number from 1 to " + std::to_string(kMaxForks) +
                     ", not '" + shown + "'"};
    }
    return {};
}

/// A string setting of env/settings into `out`; missing or null leaves `out` alone.
Status setting_text(const nlohmann::ordered_json& settings, const char* key, std::string& out) {
    auto it = settings.find(key);
    if (it == settings.end() || it->is_null()) {
        return {};
    }
    if (!it->is_string()) {
        return Error{std::string("env/settings: ") + key + " must be a string"};
    }
    out = it->get<std::string>();
    return {};
}

/// A list-of-strings setting of env/settings into `out`; missing or null leaves `out` alone.
Status setting_words(const nlohmann::ordered_json& settings, const char* key,
                     std::vector<std::string>& out) {
    auto it = settings.find(key);
    if (it == settings.end() || it->is_null()) {
        return {};
    }
    if (!it->is_array()) {
        return Error{std::string("env/settings: ") + key + " must be a list of strings"};
    }
    out.clear();
    for (const auto& item : *it) {
        if (!item.is_string()) {
            return Error{std::string("env/settings: ") + key + " must be a list of strings"};
        }
        out.push_back(item.get<std::string>());
    }
    return {};
}

}  // namespace

/// ansible-runner's container_auth_data: a mapping with `host`, `username`, `password` and an
/// optional `verify_ssl` (only a false value turns verification off, as ansible-runner's `is
/// False`). `where` names the source for the errors; no error quotes a value.
Result<ContainerAuthData> parse_container_auth(const nlohmann::ordered_json& value,
                                               const std::string& where) {
    if (!value.is_object()) {
        return Error{where +
                     ": container_auth_data must be a mapping with host, username and "
                     "password"};
    }
    ContainerAuthData auth;
    for (auto [key, out] : {std::pair<const char*, std::string*>{"host", &auth.host},
                            {"username", &auth.username},
                            {"password", &auth.password}}) {
        auto it = value.find(key);
        if (it == value.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
            return Error{where + ": container_auth_data needs a non-empty string '" + key + "'"};
        }
        *out = it->get<std::string>();
    }
    if (auto it = value.find("verify_ssl"); it != value.end()) {
        auth.verify_ssl = !(it->is_boolean() && !it->get<bool>());
    }
    return auth;
}

namespace {

/// The container keys of env/settings over the options (ansible-runner reads these), checked:
/// a container engine and an image. `purpose` says what needs them, for the errors.
Result<ContainerJobConfig> container_config(const RunOptions& options,
                                            const nlohmann::ordered_json& settings,
                                            const std::string& purpose) {
    ContainerJobConfig c;
    c.engine = options.process_isolation_executable;
    c.image = options.container_image;
    c.volume_mounts = options.container_volume_mounts;
    c.options = options.container_options;
    ARUNNER_TRY(setting_text(settings, "process_isolation_executable", c.engine));
    ARUNNER_TRY(setting_text(settings, "container_image", c.image));
    ARUNNER_TRY(setting_words(settings, "container_volume_mounts", c.volume_mounts));
    ARUNNER_TRY(setting_words(settings, "container_options", c.options));
    c.auth = options.container_auth_data;
    if (auto it = settings.find("container_auth_data"); it != settings.end() && !it->is_null()) {
        ARUNNER_ASSIGN_OR_RETURN(c.auth, parse_container_auth(*it, "env/settings"));
    }
    // ansible-runner's `containerized`: isolation with a container engine (process isolation
    // with any other executable is the sandbox, which never comes here).
    if (c.engine != "podman" && c.engine != "docker") {
        return Error{purpose + " with '" + c.engine +
                     "' is not supported: a container needs a container engine (use "
                     "--process-isolation-executable podman or docker)"};
    }
    if (c.image.empty()) {
        return Error{purpose + " needs a container image (--container-image)"};
    }
    c.engine_socket = options.container_engine_socket;
    c.workdir =
        options.container_workdir.value_or(std::string(kContainerPrivateDataDir) + "/project");
    return c;
}

/// How a job is isolated: in a container (podman or docker), in the sandbox (any other
/// executable, ansible-runner's bwrap-compatible command line), or not at all.
struct ProcessIsolation {
    std::optional<ContainerJobConfig> container;
    std::optional<std::string> sandbox_executable;
};

/// Process isolation: the settings' process isolation keys over the options.
Result<ProcessIsolation> process_isolation_settings(const RunOptions& options,
                                                    const nlohmann::ordered_json& settings) {
    bool isolation = options.process_isolation;
    if (auto it = settings.find("process_isolation"); it != settings.end()) {
        isolation = util::python_truthy(*it);
    }
    if (!isolation) {
        return ProcessIsolation{};
    }
    std::string engine = options.process_isolation_executable;
    ARUNNER_TRY(setting_text(settings, "process_isolation_executable", engine));
    if (engine != "podman" && engine != "docker") {
        const std::string name = fs::path(engine).filename().string();
        if (name == "podman" || name == "docker") {
            return Error{"process isolation with '" + engine + "': name the container engine as '" +
                         name + "' (arunner talks to its socket; a path would make it a sandbox)"};
        }
        if (engine.empty()) {
            return Error{"process isolation needs an executable (process_isolation_executable)"};
        }
        // The container's own settings mean nothing to the sandbox: refused, not ignored.
        const std::pair<const char*, bool> container_only[] = {
            {"container_volume_mounts", !options.container_volume_mounts.empty()},
            {"container_options", !options.container_options.empty()},
            {"container_workdir", options.container_workdir.has_value()},
            {"container_auth_data", options.container_auth_data.has_value()},
            {"container_engine_socket", !options.container_engine_socket.empty()},
            {"container_image", false},  // has a default: only env/settings' is looked at
        };
        for (const auto& [key, given] : container_only) {
            auto it = settings.find(key);
            if (given || (it != settings.end() && !it->is_null())) {
                return Error{std::string(key) + " applies to a container, not to the '" + engine +
                             "' sandbox (use process_isolation_show_paths or _ro_paths to show "
                             "it paths)"};
            }
        }
        return ProcessIsolation{std::nullopt, engine};
    }
    ARUNNER_ASSIGN_OR_RETURN(auto c, container_config(options, settings, "process isolation"));
    return ProcessIsolation{std::move(c), std::nullopt};
}

/// A worker container: the option, else env/settings `container_worker`; its command from the
/// option, else env/settings `container_worker_command` (a string of shell words or a list).
Result<std::optional<ContainerJobConfig>> worker_container_settings(
    const RunOptions& options, const nlohmann::ordered_json& settings) {
    bool wanted = false;
    if (options.container_worker) {
        wanted = *options.container_worker;
    } else if (auto it = settings.find("container_worker"); it != settings.end()) {
        wanted = util::python_truthy(*it);
    }
    if (!wanted) {
        return std::optional<ContainerJobConfig>();
    }
    ARUNNER_ASSIGN_OR_RETURN(auto c, container_config(options, settings, "a worker container"));
    c.worker_command = options.container_worker_command;
    if (c.worker_command.empty()) {
        auto it = settings.find("container_worker_command");
        if (it != settings.end() && it->is_string()) {
            ARUNNER_ASSIGN_OR_RETURN(
                c.worker_command,
                split_words(it->get<std::string>(), "env/settings container_worker_command"));
        } else {
            ARUNNER_TRY(setting_words(settings, "container_worker_command", c.worker_command));
        }
    }
    if (c.worker_command.empty()) {
        c.worker_command = {"arunner", "worker"};
    }
    return std::optional<ContainerJobConfig>(std::move(c));
}

/// Docker and podman accept [a-zA-Z0-9_-] in names; ansible-runner replaces anything else.
std::string sanitize_container_name(const std::string& ident) {
    std::string out = ident;
    for (char& ch : out) {
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!ok) {
            ch = '_';
        }
    }
    return "ansible_runner_" + out;
}

/// What to run: at most one of playbook (or plays), module and role (a command takes none of
/// them: check_command_options names what it refuses).
Status check_what_to_run(const RunOptions& options) {
    std::vector<std::string> given;
    if (options.playbook || !options.plays.is_null()) {
        given.emplace_back("playbook");
    }
    if (options.module) {
        given.emplace_back("module");
    }
    if (options.role) {
        given.emplace_back("role");
    }
    if (options.playbook && !options.plays.is_null()) {
        return Error{"a playbook is given both as a path and as plays: give one"};
    }
    if (given.size() == 2 && given[0] == "playbook" && given[1] == "module") {
        return Error{"Only one of playbook and module options are allowed"};
    }
    if (given.size() > 1) {
        std::string names;
        for (size_t i = 0; i < given.size(); ++i) {
            names += (i == 0 ? "" : i + 1 == given.size() ? " and " : ", ") + given[i];
        }
        return Error{"Only one of " + names + " can be given: each says what to run"};
    }
    return {};
}

/// A fresh private data dir under $TMPDIR (or /tmp), mode 0700, for a run given none.
Result<fs::path> make_temporary_private_data_dir() {
    auto dir = util::make_temp_dir(".arunner-");
    if (!dir) {
        return Error{"cannot make a temporary private data dir: " + dir.error().message};
    }
    return dir;
}

/// envvars and settings given as options, written to env/ as Python JSON (0600) when the file
/// does not exist yet, as ansible-runner's dump_artifacts does; the options still apply (with
/// the file now equal to them, that changes nothing).
Status dump_env_options(const RunOptions& options, const fs::path& pdd) {
    if (options.suppress_env_files) {
        return {};
    }
    if (!options.envvars.empty()) {
        nlohmann::ordered_json env = nlohmann::ordered_json::object();
        for (const auto& [name, value] : options.envvars) {
            env[name] = value;
        }
        ARUNNER_TRY(write_env_file(pdd, "envvars", util::python_json_dumps(env), true));
    }
    if (options.settings.is_object() && !options.settings.empty()) {
        ARUNNER_TRY(
            write_env_file(pdd, "settings", util::python_json_dumps(options.settings), true));
    }
    return {};
}

Result<JobConfig> prepare_job_in(const RunOptions& options);

}  // namespace

Result<JobConfig> prepare_job(const RunOptions& options) {
    if (!options.private_data_dir.empty()) {
        return prepare_job_in(options);
    }
    ARUNNER_ASSIGN_OR_RETURN(auto dir, make_temporary_private_data_dir());
    RunOptions in_dir = options;
    in_dir.private_data_dir = dir;
    auto job = prepare_job_in(in_dir);
    if (!job) {
        (void)util::remove_tree(dir);
        return job.error();
    }
    job->temporary_private_data_dir = true;
    return job;
}

void remove_made_for_run(JobConfig& job) {
    for (const auto& path : job.remove_after_run) {
        // Best effort: what a job left there is removed without following anything; a failure
        // (EIO, say) leaves that one path behind, never anything outside it.
        (void)util::remove_tree(path);
    }
    job.remove_after_run.clear();
}

namespace {

/// The job when `status` is fine; otherwise what was made for it alone is removed (a role's
/// playbook, the project's copy, the sandbox's staging dir) and the error returned.
Result<JobConfig> kept_or_undone(JobConfig job, const Status& status) {
    if (status) {
        return job;
    }
    remove_made_for_run(job);
    return status.error();
}

/// An environment entry the child could not get as written: a name that is empty or holds '='
/// (`A=B: 1` would set A to "B=1") or a NUL, a value that holds a NUL (the child would see it
/// cut short while ART/command records all of it).
Status check_environment_entries(const std::vector<std::pair<std::string, std::string>>& entries,
                                 const std::string& source) {
    for (const auto& [name, value] : entries) {
        if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
            return Error{source + ": '" + util::printable(name) +
                         "' cannot name an environment variable (empty, or holds '=' or NUL)"};
        }
        if (value.find('\0') != std::string::npos) {
            return Error{source + ": the value of " + util::printable(name) + " holds a NUL byte"};
        }
    }
    return {};
}

Result<JobConfig> prepare_job_in(const RunOptions& options) {
    JobConfig job;
    ARUNNER_TRY(check_what_to_run(options));
    job.private_data_dir = util::absolute_path(options.private_data_dir);
    struct stat st {};
    if (::stat(job.private_data_dir.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            return util::errno_error("cannot use the private data dir", job.private_data_dir,
                                     errno);
        }
        // ansible-runner creates a missing private data dir (os.makedirs, mode 0700).
        ARUNNER_TRY(util::make_dirs(job.private_data_dir, 0700));
    } else if (!S_ISDIR(st.st_mode)) {
        return Error{"private data dir " + job.private_data_dir.string() + " is not a directory"};
    }
    if (options.rotate_artifacts < 0) {
        return Error{"rotate_artifacts must not be negative"};
    }
    if (options.verbosity < 0) {
        return Error{"verbosity must not be negative"};
    }
    if (options.verbosity > kMaxVerbosity) {
        return Error{"verbosity must be at most " + std::to_string(kMaxVerbosity) + ", not " +
                     std::to_string(options.verbosity)};
    }
    if (options.timeout) {
        ARUNNER_TRY(util::check_seconds(*options.timeout, "timeout", ""));
    }
    ARUNNER_TRY(check_forks(options.forks));
    const fs::path& pdd = job.private_data_dir;
    job.ident = options.ident.empty() ? util::uuid4() : options.ident;
    if (job.ident.find('\0') != std::string::npos) {
        return Error{"ident holds a NUL byte: it cannot name an artifact directory"};
    }
    if (job.ident.find('/') != std::string::npos || job.ident == "." || job.ident == "..") {
        return Error{"ident '" + job.ident + "' cannot name an artifact directory"};
    }
    fs::path artifact_root =
        options.artifact_dir ? util::absolute_path(*options.artifact_dir) : pdd / "artifacts";
    job.artifact_dir = artifact_root / job.ident;
    job.project_dir =
        options.project_dir ? util::absolute_path(*options.project_dir) : pdd / "project";
    job.runner_mode = options.runner_mode;
    job.json_mode = options.json_mode;
    job.rotate_artifacts = options.rotate_artifacts;

    // Settings: the option's keys, then env/settings over them.
    nlohmann::ordered_json settings =
        options.settings.is_object() ? options.settings : nlohmann::ordered_json::object();
    ARUNNER_ASSIGN_OR_RETURN(auto settings_file, load_mapping_file(pdd, "env/settings"));
    if (settings_file) {
        for (const auto& [key, value] : settings_file->items()) {
            settings[key] = value;
        }
    }
    ARUNNER_ASSIGN_OR_RETURN(job.settings, parse_runner_settings(settings, "env/settings"));
    job.pexpect_timeout = job.settings.pexpect_timeout;
    job.idle_timeout = job.settings.idle_timeout;
    // The timeout option overrides job_timeout, truncated to whole seconds as int() does.
    if (options.timeout && static_cast<long long>(*options.timeout) > 0) {
        job.job_timeout = static_cast<double>(static_cast<long long>(*options.timeout));
    } else {
        job.job_timeout = job.settings.job_timeout;
    }
    job.suppress_output_file = job.settings.suppress_output_file;
    job.suppress_ansible_output = job.settings.suppress_ansible_output.value_or(options.quiet);
    job.fact_cache_dir = job.artifact_dir / job.settings.fact_cache.value_or("fact_cache");
    ARUNNER_ASSIGN_OR_RETURN(job.worker_container,
                             worker_container_settings(options, job.settings.raw));
    ARUNNER_ASSIGN_OR_RETURN(auto isolation_paths, read_isolation_paths(options, job.settings.raw));
    ARUNNER_TRY(check_command_options(options, job));  // run_command, the fds
    if (job.worker_container) {
        // The worker resolves the job inside its container from the transmitted stream;
        // nothing of the private data dir is read or written here beyond the settings.
        auto isolation = job.settings.raw.find("process_isolation");
        if (options.process_isolation ||
            (isolation != job.settings.raw.end() && util::python_truthy(*isolation))) {
            return Error{
                "a worker container cannot also use process isolation: the worker's container "
                "isolates the job already (drop --process-isolation or process_isolation from "
                "env/settings)"};
        }
        ARUNNER_TRY(check_isolation_paths(isolation_paths, IsolationKind::worker_container,
                                          job.worker_container->engine));
        job.worker_container->name = sanitize_container_name(job.ident);
        job.command = job.worker_container->worker_command;
        job.cwd = job.private_data_dir;
        return job;
    }
    ARUNNER_ASSIGN_OR_RETURN(auto isolation, process_isolation_settings(options, job.settings.raw));
    job.container = std::move(isolation.container);
    const std::optional<std::string>& sandbox = isolation.sandbox_executable;
    if (sandbox && !options.command.empty()) {
        return Error{"a command (run_command) cannot run in the '" + *sandbox +
                     "' sandbox: commands are isolated in containers only (podman or docker)"};
    }
    ARUNNER_TRY(check_isolation_paths(isolation_paths,
                                      !options.command.empty() ? IsolationKind::command
                                      : job.container          ? IsolationKind::container
                                      : sandbox                ? IsolationKind::sandbox
                                                               : IsolationKind::none,
                                      job.container ? job.container->engine : std::string()));
    ARUNNER_TRY(dump_env_options(options, pdd));
    if (job.container || sandbox) {
        ARUNNER_TRY(make_env_dir(pdd));  // read-only to the job (config/run_inputs.hpp)
    }
    // Inside the container the private data dir is /runner; these name the container's paths.
    const fs::path inner_pdd = job.container ? fs::path(kContainerPrivateDataDir) : pdd;
    const fs::path inner_artifact_dir =
        job.container ? inner_pdd / "artifacts" / job.ident : job.artifact_dir;

    // The environment.
    ARUNNER_ASSIGN_OR_RETURN(auto envvars_file, load_mapping_file(pdd, "env/envvars"));
    EnvironmentInputs env_inputs;
    env_inputs.base = util::Environment::from_current_process();
    env_inputs.envvars_option = options.envvars;
    if (envvars_file) {
        env_inputs.envvars_file = stringify_mapping(*envvars_file);
    }
    ARUNNER_TRY(check_environment_entries(env_inputs.envvars_option, "the envvars option"));
    ARUNNER_TRY(check_environment_entries(env_inputs.envvars_file, "env/envvars"));
    env_inputs.callback_dir = find_callback_dir();
    if (env_inputs.callback_dir.empty()) {
        return Error{
            "cannot find arunner's Ansible callback plugin (awx_display.py): set "
            "ARUNNER_CALLBACK_DIR to the directory that holds it"};
    }
    if (!job.container) {
        job.python_boot_dir = (fs::path(env_inputs.callback_dir) / kPythonBootDirName).string();
    } else {
        job.container->host_callback_dir = env_inputs.callback_dir;
        job.container->name = sanitize_container_name(job.ident);
        env_inputs.callback_dir = kContainerCallbackDir;
        env_inputs.containerized = true;
        env_inputs.podman = job.container->engine == "podman";
    }
    env_inputs.ad_hoc = !options.binary && options.module;
    env_inputs.artifact_dir = inner_artifact_dir;
    env_inputs.fact_cache_dir =
        job.container ? inner_artifact_dir / "fact_cache" : job.fact_cache_dir;
    env_inputs.roles_path = options.role
                                ? std::optional<std::string>(role_roles_path(options, inner_pdd))
                                : options.roles_path;
    env_inputs.omit_event_data = options.omit_event_data;
    env_inputs.only_failed_event_data = options.only_failed_event_data;
    job.env = build_child_environment(env_inputs);
    ARUNNER_ASSIGN_OR_RETURN(job.passwords, load_password_answers(pdd, options.passwords));

    // A role's play is written into the project dir (made for it when missing).
    const bool makes_project = options.role.has_value() && !job.container;
    if (job.container) {
        job.cwd = job.container->workdir;
    } else if (job.env.contains("AD_HOC_COMMAND_ID") ||
               (!makes_project && !util::path_exists(job.project_dir))) {
        job.cwd = pdd;
    } else {
        job.cwd = job.project_dir;
    }

    // run_command: the command as given (config/command_job.hpp).
    if (!options.command.empty()) {
        ARUNNER_TRY(resolve_command_job(options, job));
        return job;
    }

    // PDD/args replaces the whole command (raw mode).
    ARUNNER_ASSIGN_OR_RETURN(auto args, load_text_file(pdd, "args"));
    if (args) {
        ARUNNER_ASSIGN_OR_RETURN(auto words, split_words(*args, "args"));
        if (words.empty()) {
            return Error{"args: the file holds no command"};
        }
        job.command = std::move(words);
        Status wrapped = apply_ssh_key(options, job);
        if (wrapped) {
            wrapped =
                apply_isolation(isolation_paths, sandbox, options, env_inputs.callback_dir, job);
        }
        return kept_or_undone(std::move(job), wrapped);
    }

    CommandInputs command;
    command.binary = options.binary;
    command.module = options.module;
    command.module_args = options.module_args;
    command.host_pattern = options.host_pattern;
    command.playbook = options.playbook;
    if (!options.plays.is_null()) {
        ARUNNER_ASSIGN_OR_RETURN(auto plays, write_plays(options.plays, pdd));
        command.playbook = (inner_pdd / plays.lexically_relative(pdd)).string();
    }
    if (options.role) {
        // The playbook's name now; the file is written last, once nothing can fail.
        command.playbook = "";
    }
    if (!options.binary) {
        if (!options.module && !command.playbook) {
            return Error{"Runner playbook required when running ansible-playbook"};
        }
    }

    std::optional<std::string> cmdline_text;
    std::string cmdline_source = "--cmdline";
    if (options.cmdline && !options.cmdline->empty()) {
        cmdline_text = options.cmdline;
        // Checked before it is kept: a bad one in env/cmdline would fail every later run.
        ARUNNER_TRY(split_words(*options.cmdline, cmdline_source));
        if (!options.suppress_env_files && !util::path_exists(pdd / "env" / "cmdline")) {
            ARUNNER_TRY(dump_cmdline(pdd, *options.cmdline));
        }
    } else {
        ARUNNER_ASSIGN_OR_RETURN(auto file, load_text_file(pdd, "env/cmdline"));
        cmdline_text = std::move(file);
        cmdline_source = "env/cmdline";
    }
    if (cmdline_text) {
        ARUNNER_ASSIGN_OR_RETURN(auto words, split_words(*cmdline_text, cmdline_source));
        command.cmdline_tokens = std::move(words);
    }

    ARUNNER_ASSIGN_OR_RETURN(auto inventories, place_inventories(options, pdd));
    if (job.container) {
        // ansible-runner ignores the inventory option in a container: /runner/inventory it is
        // (an inline inventory was just written there).
        if (!options.inventories.empty()) {
            return Error{
                "a list of inventories cannot reach a process-isolated job: the container sees "
                "only the private data dir's inventory/ (put them there)"};
        }
        command.inventories.push_back((inner_pdd / "inventory").string());
    } else if (!inventories.empty()) {
        command.inventories = std::move(inventories);
    } else if (util::path_exists(pdd / "inventory")) {
        command.inventories.push_back((pdd / "inventory").string());
    }
    command.limit = options.limit;
    ARUNNER_TRY(place_api_extravars(options, pdd, inner_pdd, job.ident, command));
    command.verbosity = options.verbosity;
    command.tags = options.tags;
    command.skip_tags = options.skip_tags;
    command.forks = options.forks;
    std::optional<GeneratedPlaybook> role_playbook;
    if (options.role) {
        // Written into the private data dir's project/ for a container (all it sees), else into
        // the project dir; the cwd is that dir, so the file's name is the playbook.
        const fs::path dir = job.container ? pdd / "project" : job.project_dir;
        ARUNNER_ASSIGN_OR_RETURN(auto generated, write_generated_playbook(role_play(options), dir));
        command.playbook = job.container
                               ? (inner_pdd / "project" / generated.file.filename()).string()
                               : generated.file.string();
        job.remove_after_run.push_back(generated.file);
        if (generated.made_dir) {
            job.remove_after_run.push_back(*generated.made_dir);
        }
    }
    job.command = build_ansible_command(command);
    Status wrapped = apply_ssh_key(options, job);
    if (wrapped) {
        wrapped = apply_isolation(isolation_paths, sandbox, options, env_inputs.callback_dir, job);
    }
    return kept_or_undone(std::move(job), wrapped);
}

}  // namespace

}  // namespace arunner::config
