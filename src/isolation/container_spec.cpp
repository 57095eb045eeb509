#include "isolation/container_spec.hpp"

#include "isolation/container_sweep.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "config/callback_dir.hpp"
#include "config/run_inputs.hpp"
#include "util/environment.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

namespace arunner::isolation {
namespace {

namespace fs = std::filesystem;
using engine::ContainerSpec;
using engine::Mount;
using engine::SelinuxRelabel;

/// os.path.expandvars: $NAME and ${NAME} of set variables; anything else stays as written.
std::string expand_vars(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        if (text[i] != '$' || i + 1 >= text.size()) {
            out += text[i++];
            continue;
        }
        bool braced = text[i + 1] == '{';
        size_t start = i + (braced ? 2 : 1);
        size_t end = start;
        while (end < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
            ++end;
        }
        bool closed = !braced || (end < text.size() && text[end] == '}');
        const char* value =
            end > start && closed ? std::getenv(text.substr(start, end - start).c_str()) : nullptr;
        if (value == nullptr) {
            out += text[i++];
            continue;
        }
        out += value;
        i = end + (braced ? 1 : 0);
    }
    return out;
}

/// os.path.expanduser for "~" and "~/…" (other users' "~name" stay as written).
std::string expand_user(const std::string& path) {
    if (path == "~" || path.starts_with("~/")) {
        const char* home = std::getenv("HOME");
        if (home != nullptr) {
            return std::string(home) + path.substr(1);
        }
    }
    return path;
}

/// Without trailing slashes ("/" stays "/").
std::string trim_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    return path;
}

bool is_regular_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status apply_labels(const std::string& labels, const std::string& mapping, Mount& mount) {
    size_t start = 0;
    while (start <= labels.size()) {
        size_t comma = labels.find(',', start);
        std::string label =
            labels.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (label == "ro") {
            mount.read_only = true;
        } else if (label == "rw") {
            mount.read_only = false;
        } else if (label == "Z") {
            mount.relabel = SelinuxRelabel::private_;
        } else if (label == "z") {
            mount.relabel = SelinuxRelabel::shared;
        } else if (!label.empty()) {
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): an error, built once
            return Error{"volume mount '" + mapping + "': option '" + label +
                         "' is not supported (ro, rw, z or Z)"};
        }
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    return {};
}

bool same_mount(const Mount& a, const Mount& b) {
    return a.source == b.source && a.target == b.target && a.read_only == b.read_only &&
           a.relabel == b.relabel;
}

}  // namespace

Status ensure_safe_to_mount(std::string path) {
    if (is_regular_file(path)) {
        path = fs::path(path).parent_path().string();
    }
    std::string dir = trim_slashes(path);
    if (dir == "/" || dir == "/home" || dir == "/usr") {
        return Error{"When using containerized execution, cannot mount '/' or '/home' or '/usr'"};
    }
    return {};
}

void set_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& name,
             const std::string& value) {
    for (auto& entry : env) {
        if (entry.first == name) {
            entry.second = value;
            return;
        }
    }
    env.emplace_back(name, value);
}

Status add_volume_mount(const std::string& mapping, const std::string& workdir,
                        std::vector<Mount>& mounts) {
    // Split on ':' into at most three parts, as ansible-runner does.
    std::vector<std::string> parts;
    size_t start = 0;
    while (parts.size() < 2) {
        size_t colon = mapping.find(':', start);
        if (colon == std::string::npos) {
            break;
        }
        parts.push_back(mapping.substr(start, colon - start));
        start = colon + 1;
    }
    parts.push_back(mapping.substr(start));
    if (parts[0].empty()) {
        return Error{"volume mount '" + mapping + "' names no source path"};
    }
    ARUNNER_TRY(ensure_safe_to_mount(parts[0]));

    std::string source = expand_vars(expand_user(parts[0]));
    source = util::absolute_path(source).lexically_normal().string();
    std::error_code ec;
    if (!fs::exists(source, ec)) {
        return {};  // ansible-runner skips a missing source silently
    }
    std::string target = parts.size() > 1 && !parts[1].empty() ? parts[1] : source;
    target = expand_vars(expand_user(target));
    if (!fs::path(target).is_absolute()) {
        target = (fs::path(workdir) / target).string();
    }
    target = fs::path(target).lexically_normal().string();
    if (is_regular_file(source)) {
        source = fs::path(source).parent_path().string();
        target = fs::path(trim_slashes(target)).parent_path().string();
    }
    ARUNNER_TRY(ensure_safe_to_mount(source));
    Mount mount;
    mount.source = trim_slashes(source);
    mount.target = trim_slashes(target);
    if (parts.size() > 2) {
        ARUNNER_TRY(apply_labels(parts[2], mapping, mount));
    }
    bool present = std::any_of(mounts.begin(), mounts.end(),
                               [&](const Mount& m) { return same_mount(m, mount); });
    if (!present) {
        mounts.push_back(std::move(mount));
    }
    return {};
}

namespace {

/// What every container arunner creates takes from the user: the volume mounts, the container
/// options, and the controller label (arunner's alone: a --label with its key is dropped; it is
/// how a later sweep tells whether this container's arunner still runs, container_sweep.hpp).
Status add_user_settings(const config::ContainerJobConfig& c, ContainerSpec& spec) {
    for (const std::string& mapping : c.volume_mounts) {
        ARUNNER_TRY(add_volume_mount(mapping, c.workdir, spec.mounts));
    }
    ARUNNER_TRY(apply_container_options(c.options, spec));
    std::erase_if(spec.labels, [](const auto& label) { return label.first == kControllerLabel; });
    if (auto controller = this_controller()) {
        spec.labels.emplace_back(kControllerLabel, format_controller_label(*controller));
    }
    return {};
}

/// The run's inputs (config/run_inputs.hpp) over the private data dir's mount, read-only, so
/// the job cannot rewrite what decides the next run. One that is a link within the private data
/// dir is covered at its real place too (where the job could otherwise write it). The engine
/// mounts parents before children, whatever the order here.
void add_read_only_run_inputs(const fs::path& private_data_dir, ContainerSpec& spec) {
    const fs::path pdd = config::real_path(private_data_dir);
    const fs::path inner = config::kContainerPrivateDataDir;
    for (const config::RunInput& input : config::present_run_inputs(pdd)) {
        spec.mounts.push_back(
            Mount{input.real.string(), (inner / input.name).string(), true, SelinuxRelabel::none});
        if (input.real != pdd / input.name && config::is_within(input.real, pdd) &&
            input.real != pdd) {
            spec.mounts.push_back(Mount{input.real.string(),
                                        (inner / input.real.lexically_relative(pdd)).string(), true,
                                        SelinuxRelabel::none});
        }
    }
}

}  // namespace

Result<ContainerSpec> make_container_spec(const config::JobConfig& job) {
    if (!job.container) {
        return Error{"internal: make_container_spec on a job that is not containerized"};
    }
    const config::ContainerJobConfig& c = *job.container;
    ARUNNER_TRY(ensure_safe_to_mount(job.private_data_dir.string()));
    ContainerSpec spec;
    spec.name = c.name;
    spec.image = c.image;
    spec.cmd = {"/bin/sh", "-c", container_init_script(), "sh"};
    spec.cmd.insert(spec.cmd.end(), job.command.begin(), job.command.end());
    spec.workdir = c.workdir;
    for (const auto& entry : job.env.entries()) {
        spec.env.emplace_back(entry.first, entry.second);
    }
    spec.labels = {{kIdentLabel, job.ident}};
    // A pty when ansible-runner would use pexpect: the stream is then raw, stdout and stderr
    // merged, as a local run's pty.
    spec.tty = job.runner_mode == RunnerMode::pexpect;
    if (spec.tty && !job.passwords.empty()) {
        // Prompts are answered on the container's stdin. Its pty echoes by default, unlike the
        // one a local job gets: echo off first, so an answer never reaches the output.
        spec.open_stdin = true;
        spec.cmd[2] = "stty -echo 2>/dev/null; " + container_init_script();
    }
    spec.init = true;
    if (c.engine == "docker") {
        spec.user = std::to_string(::getuid());  // ansible-runner's --user=<uid> on docker
    }

    const std::string pdd = trim_slashes(job.private_data_dir.string());
    spec.mounts.push_back(
        Mount{pdd, config::kContainerPrivateDataDir, false, SelinuxRelabel::private_});
    // An artifact dir outside PDD/artifacts is mounted where the job inside expects it.
    fs::path inner_art = fs::path(config::kContainerPrivateDataDir) / "artifacts" / job.ident;
    if (job.artifact_dir != job.private_data_dir / "artifacts" / job.ident) {
        spec.mounts.push_back(
            Mount{job.artifact_dir.string(), inner_art.string(), false, SelinuxRelabel::private_});
    }
    // The plugin is read, never written; not relabelled (it lives in a system directory).
    spec.mounts.push_back(Mount{trim_slashes(c.host_callback_dir.string()),
                                config::kContainerCallbackDir, true, SelinuxRelabel::none});
    add_read_only_run_inputs(job.private_data_dir, spec);
    ARUNNER_TRY(add_user_settings(c, spec));
    return spec;
}

Result<ContainerSpec> make_worker_container_spec(const config::JobConfig& job) {
    if (!job.worker_container) {
        return Error{"internal: make_worker_container_spec on a job without a worker container"};
    }
    const config::ContainerJobConfig& c = *job.worker_container;
    ContainerSpec spec;
    spec.name = c.name;
    spec.image = c.image;
    spec.cmd = c.worker_command;
    spec.labels = {{kIdentLabel, job.ident}};
    // The job stream goes in on stdin and the worker stream comes out on stdout: no tty, which
    // would echo stdin and rewrite line ends; stdin ends when the controller half-closes it.
    spec.tty = false;
    spec.open_stdin = true;
    spec.stdin_once = true;
    // No init: the worker is the container's pid 1, so that nothing else holds the container's
    // stdout (an init would, and is dumpable: a task could write a forged status and eof into
    // /proc/1/fd/1), and a task cannot kill it (pid 1 of a namespace takes no signal from inside
    // it that it has no handler for). arunner's worker is not dumpable, so its own fds are closed
    // to the job (docs/stream-trust.md).
    spec.init = false;
    // podman gives every container TERM=xterm, docker only one with a tty. The worker's ansible
    // colours its output by TERM (as a local run does), so without it the same job's stdout
    // differed on docker; a --container-option --env=TERM=… still wins.
    if (c.engine == "docker") {
        set_env(spec.env, "TERM", "xterm");
    }
    ARUNNER_TRY(add_user_settings(c, spec));
    return spec;
}

std::string container_init_script() {
    const std::string init = std::string(config::kContainerCallbackDir) + "/" +
                             config::kPythonBootDirName + "/container_init/__init__.py";
    return "if command -v python3 >/dev/null 2>&1; then exec python3 -I -S " + init +
           " \"$@\"; fi; exec \"$@\"";
}

void add_frame_fifo(ContainerSpec& spec, const std::string& ident) {
    const fs::path fifo =
        fs::path(config::kContainerPrivateDataDir) / "artifacts" / ident / kFrameFifoName;
    set_env(spec.env, kFrameFifoVariable, fifo.string());
    const std::string boot =
        std::string(config::kContainerCallbackDir) + "/" + config::kPythonBootDirName;
    std::string existing;
    for (const auto& [name, value] : spec.env) {
        if (name == "PYTHONPATH") {
            existing = value;
        }
    }
    set_env(spec.env, "PYTHONPATH", util::python_path_with(boot, existing));
}

}  // namespace arunner::isolation
