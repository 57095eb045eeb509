#include "config/command_job.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
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
        return Error{
            "a command (run_command) cannot be process-isolated yet: run it without "
            "process_isolation"};
    }
    if (options.host_cwd) {
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
