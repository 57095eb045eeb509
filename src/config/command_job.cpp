#include "config/command_job.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "config/job_config.hpp"
#include "config/ssh_agent.hpp"
#include "util/files.hpp"
#include "util/python_truth.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;

/// The RunOptions fields of a playbook or ad hoc run that are set: a command is run as given,
/// so none of them could reach it (ansible-runner's run_command does not take them either).
std::vector<std::string> playbook_fields_set(const RunOptions& o) {
    std::vector<std::string> set;
    auto check = [&set](bool is_set, const char* name) {
        if (is_set) {
            set.emplace_back(name);
        }
    };
    check(o.playbook.has_value(), "playbook");
    check(!o.plays.is_null(), "plays");
    check(o.module.has_value(), "module");
    check(o.module_args.has_value(), "module_args");
    check(o.host_pattern.has_value(), "host_pattern");
    check(o.role.has_value(), "role");
    check(o.role_hosts.has_value(), "role_hosts");
    check(o.role_vars.is_object() ? !o.role_vars.empty() : !o.role_vars.is_null(), "role_vars");
    check(o.role_skip_facts, "role_skip_facts");
    check(o.binary.has_value(), "binary");
    check(o.inventory.has_value(), "inventory");
    check(!o.inventories.empty(), "inventories");
    check(o.inventory_text.has_value(), "inventory_text");
    check(!o.inventory_mapping.is_null(), "inventory_mapping");
    check(o.limit.has_value(), "limit");
    check(o.forks.has_value(), "forks");
    check(o.verbosity != 0, "verbosity");
    check(o.cmdline.has_value(), "cmdline");
    check(o.tags.has_value(), "tags");
    check(o.skip_tags.has_value(), "skip_tags");
    check(o.extravars.is_object() ? !o.extravars.empty() : !o.extravars.is_null(), "extravars");
    return set;
}

std::string joined(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) {
        text += (text.empty() ? "" : ", ") + word;
    }
    return text;
}

/// An Error unless `fd` is -1 (not given) or an open descriptor.
Status check_open_fd(int fd, const char* name) {
    if (fd == -1) {
        return {};
    }
    if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) {
        return Error{std::string(name) + " " + std::to_string(fd) +
                     " is not an open file descriptor"};
    }
    return {};
}

bool isolation_requested(const RunOptions& options, const JobConfig& job) {
    auto it = job.settings.raw.find("process_isolation");
    return it != job.settings.raw.end() ? util::python_truthy(*it) : options.process_isolation;
}

/// `path` as a mount of itself ("P:P"), for ContainerJobConfig::volume_mounts; `labels` added.
Result<std::string> same_path_mount(const fs::path& path, const std::string& labels = "") {
    std::string text = util::absolute_path(path).lexically_normal().string();
    if (text.find(':') != std::string::npos) {
        return Error{"cannot mount " + text + " into the container: the path holds a ':'"};
    }
    return text + ":" + text + labels;
}

/// ansible-runner's _get_playbook_path: the one argument of ansible-playbook that is neither a
/// flag nor a flag's value (after the inventory options are taken out).
std::optional<std::string> playbook_argument(const std::vector<std::string>& args) {
    std::vector<std::string> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "-i" || args[i] == "--inventory" || args[i] == "--inventory-file") {
            ++i;
            continue;
        }
        rest.push_back(args[i]);
    }
    if (rest.empty()) {
        return std::nullopt;
    }
    if (rest.size() == 1 || rest[0][0] != '-') {
        return rest[0];
    }
    for (size_t i = 1; i < rest.size(); ++i) {
        if (!rest[i].empty() && rest[i][0] != '-' && !rest[i - 1].empty() &&
            rest[i - 1][0] != '-') {
            return rest[i];
        }
    }
    return std::nullopt;
}

/// SPEC §7.7: a command in a container. The workdir (container_workdir, else host_cwd mounted
/// at its own path, else /runner/project), the file arguments of an ansible command mounted at
/// their own paths, the ssh automounts, podman's --group-add=root --ipc=host, and the
/// artifacts dir mounted over /runner/artifacts.
Status containerize_command(const RunOptions& options, JobConfig& job) {
    ContainerJobConfig& c = *job.container;
    std::vector<std::string> mounts;
    auto mount = [&mounts](const fs::path& path, const std::string& labels = "") -> Status {
        if (!util::path_exists(path)) {
            return {};  // ansible-runner skips a missing source
        }
        ARUNNER_ASSIGN_OR_RETURN(auto text, same_path_mount(path, labels));
        mounts.push_back(std::move(text));
        return {};
    };
    if (!options.container_workdir && options.host_cwd && util::path_exists(*options.host_cwd)) {
        ARUNNER_TRY(mount(*options.host_cwd));
        c.workdir = util::absolute_path(*options.host_cwd).lexically_normal().string();
    }
    const std::string executable = options.command.front();
    const std::vector<std::string> args(options.command.begin() + 1, options.command.end());
    const bool help = std::find(args.begin(), args.end(), "-h") != args.end() ||
                      std::find(args.begin(), args.end(), "--help") != args.end();
    // ansible-runner's ANSIBLE_COMMANDS: the name (after its os.pathsep quirk) starts "ansible".
    std::string name = executable.substr(executable.rfind(':') + 1);
    if (name.rfind("ansible", 0) == 0 && !help) {
        if (executable.find("ansible-playbook") != std::string::npos) {
            if (auto playbook = playbook_argument(args)) {
                ARUNNER_TRY(mount(*playbook));
            }
        }
        static const std::vector<std::string> kFileOptions = {"-i",
                                                              "--inventory",
                                                              "--inventory-file",
                                                              "--vault-password-file",
                                                              "--vault-pass-file",
                                                              "--private-key",
                                                              "--key-file"};
        for (size_t i = 0; i + 1 < args.size(); ++i) {
            if (std::find(kFileOptions.begin(), kFileOptions.end(), args[i]) ==
                kFileOptions.end()) {
                continue;
            }
            const std::string& value = args[++i];
            bool host_list = args[i - 1].find("inv") != std::string::npos || args[i - 1] == "-i";
            if (host_list && !value.empty() && value.back() == ',') {
                continue;  // a comma-separated host list, no file
            }
            ARUNNER_TRY(mount(value));
        }
    }
    // Automounts: the ssh agent's socket, ~/.ssh and the system's known hosts.
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        fs::path ssh = fs::path(home) / ".ssh";
        if (util::path_exists(ssh)) {
            std::string source = util::absolute_path(ssh).string();
            if (source.find(':') == std::string::npos) {
                mounts.push_back(source + ":/home/runner/.ssh");
                mounts.push_back(source + ":/root/.ssh");
            }
        }
    }
    if (const char* sock = std::getenv("SSH_AUTH_SOCK");
        sock != nullptr && util::path_exists(sock)) {
        const char* home = std::getenv("HOME");
        std::string source = util::absolute_path(sock).string();
        std::string target = source;
        if (home != nullptr && *home != '\0' && source.rfind(std::string(home) + "/", 0) == 0) {
            target = "/home/runner/" + source.substr(std::string(home).size() + 1);
        }
        if (source.find(':') == std::string::npos && target.find(':') == std::string::npos) {
            mounts.push_back(source + ":" + target);
            job.env.set("SSH_AUTH_SOCK", target);
        }
    }
    ARUNNER_TRY(mount("/etc/ssh/ssh_known_hosts"));
    if (c.engine == "podman") {
        c.options.insert(c.options.begin(), {"--group-add=root", "--ipc=host"});
    }
    for (const char* sub : {"project", "artifacts"}) {
        ARUNNER_TRY(util::make_dirs(job.private_data_dir / sub, 0700));
    }
    std::string artifacts = (job.private_data_dir / "artifacts").string();
    if (artifacts.find(':') != std::string::npos) {
        return Error{"cannot mount " + artifacts + " into the container: the path holds a ':'"};
    }
    mounts.push_back(artifacts + ":" + kContainerPrivateDataDir + "/artifacts:Z");
    c.volume_mounts.insert(c.volume_mounts.begin(), mounts.begin(), mounts.end());
    job.cwd = c.workdir;
    return {};
}

}  // namespace

Status check_command_options(const RunOptions& options, JobConfig& job) {
    const bool command = !options.command.empty();
    if (command) {
        auto fields = playbook_fields_set(options);
        if (!fields.empty()) {
            return Error{"a command runs as it is given, so it takes no " + joined(fields) +
                         " (put them in the command's arguments)"};
        }
        if (job.worker_container) {
            return Error{
                "a command (run_command) cannot be run by a worker container: use "
                "process isolation, or run it locally"};
        }
    }
    const std::pair<int, const char*> fds[] = {
        {options.input_fd, "input_fd"},
        {options.output_fd, "output_fd"},
        {options.error_fd, "error_fd"},
    };
    for (const auto& [fd, name] : fds) {
        if (fd == -1) {
            continue;
        }
        // ansible-runner's check reads `runner_mode == 'pexpect' and not input_fd` (inverted);
        // arunner says what is meant: the descriptors are a subprocess-mode feature.
        if (job.runner_mode != RunnerMode::subprocess) {
            return Error{std::string(name) + " is applicable only with 'subprocess' runner mode"};
        }
        ARUNNER_TRY(check_open_fd(fd, name));
        if (job.worker_container) {
            return Error{std::string(name) + " cannot be given to a job in a worker container"};
        }
        if (isolation_requested(options, job)) {
            return Error{std::string(name) +
                         " cannot be given to a process-isolated job: its container's streams "
                         "are the engine's"};
        }
    }
    job.input_fd = options.input_fd;
    job.output_fd = options.output_fd;
    job.error_fd = options.error_fd;
    return {};
}

Status resolve_command_job(const RunOptions& options, JobConfig& job) {
    if (options.command.front().empty()) {
        return Error{"the command's executable is empty"};
    }
    job.command = options.command;
    if (job.container) {
        ARUNNER_TRY(containerize_command(options, job));
    } else if (options.host_cwd) {
        fs::path cwd = util::absolute_path(*options.host_cwd);
        struct stat st {};
        if (::stat(cwd.c_str(), &st) != 0) {
            return util::errno_error("host_cwd: cannot use", cwd, errno);
        }
        if (!S_ISDIR(st.st_mode)) {
            return Error{"host_cwd " + cwd.string() + " is not a directory"};
        }
        job.cwd = cwd;
    } else {
        std::error_code ec;
        job.cwd = fs::current_path(ec);
        if (ec) {
            return Error{"cannot find the current directory: " + ec.message()};
        }
    }
    // In subprocess mode ansible-runner limits a command by subprocess_timeout (the timeout
    // option wins); arunner keeps job_timeout too when that is all there is.
    if (job.runner_mode == RunnerMode::subprocess && job.settings.subprocess_timeout &&
        !(options.timeout && static_cast<long long>(*options.timeout) > 0)) {
        job.job_timeout = job.settings.subprocess_timeout;
    }
    return apply_ssh_key(options, job);
}

}  // namespace arunner::config
