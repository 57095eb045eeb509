#include "config/sandbox.hpp"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <tuple>

#include "config/run_inputs.hpp"
#include "util/copy_tree.hpp"
#include "util/files.hpp"
#include "util/python_truth.hpp"
#include "util/temp_dir.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

/// A path setting of env/settings: one path or a list of paths; missing or null leaves `out`.
Status setting_paths(const Json& settings, const char* key, std::vector<std::string>& out) {
    auto it = settings.find(key);
    if (it == settings.end() || it->is_null()) {
        return {};
    }
    if (it->is_string()) {
        out = {it->get<std::string>()};
        return {};
    }
    bool ok = it->is_array();
    for (size_t i = 0; ok && i < it->size(); ++i) {
        ok = (*it)[i].is_string();
    }
    if (!ok) {
        return Error{std::string("env/settings: ") + key + " must be a path or a list of paths"};
    }
    out = it->get<std::vector<std::string>>();
    return {};
}

Status setting_path(const Json& settings, const char* key, std::optional<fs::path>& out) {
    auto it = settings.find(key);
    if (it == settings.end() || it->is_null()) {
        return {};
    }
    if (!it->is_string()) {
        return Error{std::string("env/settings: ") + key + " must be a path"};
    }
    out = it->get<std::string>();
    return {};
}

/// util::make_temp_dir_in, its error naming the setting that chose `dir`.
Result<fs::path> make_temp_dir(const fs::path& dir, const std::string& prefix,
                               const std::string& setting) {
    auto made = util::make_temp_dir_in(dir, prefix);
    if (!made) {
        return Error{made.error().message + " (" + setting + ")"};
    }
    return made;
}

/// The empty item covering a hidden path: a directory (0700) or a file (0600) in `staging`.
Result<fs::path> make_cover(const fs::path& staging, bool directory) {
    if (directory) {
        return make_temp_dir(staging, "", "process_isolation_hide_paths");
    }
    std::string name = (staging / "XXXXXX").string();
    int fd = ::mkstemp(name.data());
    if (fd < 0) {
        return util::errno_error("cannot make a file in", staging, errno);
    }
    ::fchmod(fd, 0600);
    ::close(fd);
    return fs::path(name);
}

struct Flag {
    const char* key;
    const char* flag;
    bool given;
};

}  // namespace

Result<IsolationPaths> read_isolation_paths(const RunOptions& options, const Json& settings) {
    IsolationPaths paths;
    paths.staging_base = options.process_isolation_path;
    paths.hide = options.process_isolation_hide_paths;
    paths.show = options.process_isolation_show_paths;
    paths.ro = options.process_isolation_ro_paths;
    paths.directory_base = options.directory_isolation_base_path;
    ARUNNER_TRY(setting_path(settings, "process_isolation_path", paths.staging_base));
    ARUNNER_TRY(setting_paths(settings, "process_isolation_hide_paths", paths.hide));
    ARUNNER_TRY(setting_paths(settings, "process_isolation_show_paths", paths.show));
    ARUNNER_TRY(setting_paths(settings, "process_isolation_ro_paths", paths.ro));
    ARUNNER_TRY(setting_path(settings, "directory_isolation_base_path", paths.directory_base));
    if (auto it = settings.find("directory_isolation_cleanup"); it != settings.end()) {
        paths.directory_cleanup = util::python_truthy(*it);  // bool(), as ansible-runner
        paths.directory_cleanup_given = true;
    }
    for (const auto& [path, key] : {std::pair{&paths.staging_base, "process_isolation_path"},
                                    {&paths.directory_base, "directory_isolation_base_path"}}) {
        if (*path && (*path)->empty()) {
            return Error{std::string(key) + " must be a path, not empty"};
        }
    }
    return paths;
}

Status check_isolation_paths(const IsolationPaths& paths, IsolationKind kind,
                             const std::string& engine) {
    if (kind != IsolationKind::sandbox) {
        const Flag sandbox_flags[] = {
            {"process_isolation_path", "--process-isolation-path", paths.staging_base.has_value()},
            {"process_isolation_hide_paths", "--process-isolation-hide-paths", !paths.hide.empty()},
            {"process_isolation_show_paths", "--process-isolation-show-paths", !paths.show.empty()},
            {"process_isolation_ro_paths", "--process-isolation-ro-paths", !paths.ro.empty()},
        };
        for (const Flag& f : sandbox_flags) {
            if (!f.given) {
                continue;
            }
            std::string what =
                std::string(f.key) + " (" + f.flag + ") applies to the bwrap sandbox only";
            switch (kind) {
                case IsolationKind::none:
                    return Error{what +
                                 ", and this job is not isolated: add --process-isolation "
                                 "--process-isolation-executable bwrap, or drop it"};
                case IsolationKind::container:
                    what += ": a " + engine;
                    return Error{what +
                                 " container shows the job only its mounts (see "
                                 "container_volume_mounts)"};
                case IsolationKind::worker_container:
                    return Error{what + ", not to a worker container"};
                case IsolationKind::command:
                case IsolationKind::sandbox:
                    return Error{what + ", which a command (run_command) does not use"};
            }
        }
    }
    if (paths.directory_cleanup_given && !paths.directory_base) {
        return Error{
            "directory_isolation_cleanup (env/settings) applies only with "
            "directory_isolation_base_path (--directory-isolation-base-path)"};
    }
    if (paths.directory_base) {
        const std::string what = "directory_isolation_base_path (--directory-isolation-base-path) ";
        switch (kind) {
            case IsolationKind::none:
            case IsolationKind::sandbox:
                break;
            case IsolationKind::container:
                return Error{what + "cannot apply to a " + engine +
                             " container: the container sees the private data dir's project "
                             "through its own mount"};
            case IsolationKind::worker_container:
                return Error{what + "cannot apply to a worker container"};
            case IsolationKind::command:
                return Error{what +
                             "applies to playbook and module runs, not to a command "
                             "(run_command)"};
        }
    }
    return {};
}

HostRoot read_host_root() {
    HostRoot root;
    for (const char* path : {"/lib", "/lib64", "/sbin", "/lib32", "/libx32"}) {
        struct stat st {};
        if (::lstat(path, &st) != 0) {
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            fs::path target = fs::read_symlink(path, ec);
            if (!ec) {
                root.entries.push_back({path, target.string()});
            }
        } else if (S_ISDIR(st.st_mode)) {
            root.entries.push_back({path, ""});
        }
    }
    std::error_code ec;
    root.has_opt = fs::is_directory("/opt", ec);
    return root;
}

Result<SandboxPlan> plan_sandbox(const IsolationPaths& paths, const std::string& executable,
                                 std::vector<SandboxMount> implicit, const fs::path& chdir) {
    SandboxPlan plan;
    plan.executable = executable;
    plan.chdir = chdir;
    fs::path base;
    if (paths.staging_base) {
        base = util::absolute_path(*paths.staging_base);
    } else {
        ARUNNER_ASSIGN_OR_RETURN(base, util::temp_dir());
    }
    ARUNNER_ASSIGN_OR_RETURN(plan.staging_dir,
                             make_temp_dir(base, "ansible_runner_pi_", "process_isolation_path"));
    struct Remover {
        fs::path dir;
        ~Remover() {
            if (!dir.empty()) {
                (void)util::remove_tree(dir);
            }
        }
    } remover{plan.staging_dir};

    plan.mounts = std::move(implicit);
    // Each list as a sorted set, as ansible-runner; a path that does not exist is skipped.
    for (const auto& path : std::set<std::string>(paths.hide.begin(), paths.hide.end())) {
        fs::path real = real_path(path);
        if (real.empty()) {
            continue;
        }
        std::error_code ec;
        ARUNNER_ASSIGN_OR_RETURN(auto cover,
                                 make_cover(plan.staging_dir, fs::is_directory(real, ec)));
        plan.mounts.push_back({SandboxMount::Kind::hide, real, cover});
    }
    for (const auto& [list, kind] : {std::pair{&paths.ro, SandboxMount::Kind::read_only},
                                     {&paths.show, SandboxMount::Kind::show}}) {
        for (const auto& path : std::set<std::string>(list->begin(), list->end())) {
            fs::path real = real_path(path);
            if (!real.empty()) {
                plan.mounts.push_back({kind, real, real});
            }
        }
    }
    // Parents before children, so no mount covers one below it; for one path, show, then
    // read-only, then hide: the most restrictive is mounted last and wins.
    auto key = [](const SandboxMount& m) { return std::tie(m.path, m.kind); };
    std::sort(plan.mounts.begin(), plan.mounts.end(),
              [&](const SandboxMount& a, const SandboxMount& b) {
                  int order = a.path.string().compare(b.path.string());
                  return order != 0 ? order < 0 : a.kind < b.kind;
              });
    plan.mounts.erase(
        std::unique(plan.mounts.begin(), plan.mounts.end(),
                    [&](const SandboxMount& a, const SandboxMount& b) { return key(a) == key(b); }),
        plan.mounts.end());
    remover.dir.clear();
    return plan;
}

std::vector<std::string> sandbox_command(const SandboxPlan& plan, const HostRoot& root,
                                         const std::vector<std::string>& command) {
    std::vector<std::string> argv = {plan.executable, "--die-with-parent",
                                     "--unshare-pid", "--dev-bind",
                                     "/dev",          "dev",
                                     "--proc",        "/proc",
                                     "--dir",         "/tmp",
                                     "--ro-bind",     "/bin",
                                     "/bin",          "--ro-bind",
                                     "/etc",          "/etc",
                                     "--ro-bind",     "/usr",
                                     "/usr"};
    if (root.has_opt) {
        argv.insert(argv.end(), {"--ro-bind", "/opt", "/opt"});
    }
    for (const auto& entry : root.entries) {
        if (entry.link_target.empty()) {
            argv.insert(argv.end(), {"--ro-bind", entry.path, entry.path});
        } else {
            argv.insert(argv.end(), {"--symlink", entry.link_target, entry.path});
        }
    }
    for (const auto& m : plan.mounts) {
        // A cover is read-only too: a job cannot fill the staging base through a hidden path.
        const char* op = m.kind == SandboxMount::Kind::show ? "--bind" : "--ro-bind";
        argv.insert(argv.end(), {op, m.source.string(), m.path.string()});
    }
    if (!plan.chdir.empty()) {
        argv.insert(argv.end(), {"--chdir", plan.chdir.string()});
    }
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

namespace {

/// A default location (PDD/project, PDD/artifacts) must stay in the private data dir: a job in
/// an earlier sandbox could have made it a symlink to anywhere, which this sandbox would show.
Status check_stays_inside(const fs::path& path, const fs::path& pdd, const char* setting) {
    const fs::path real = real_path(path);
    if (!real.empty() && !is_within(real, pdd)) {
        return Error{"the sandbox does not show " + path.string() +
                     ": it leads outside the private data dir (to " + real.string() + "); set " +
                     setting + " to use that directory"};
    }
    return {};
}

/// `command`'s words that name a file of `from` (a role's generated playbook) now name it in
/// `to`, the project's copy.
void point_into_copy(std::vector<std::string>& command, const fs::path& from, const fs::path& to,
                     const std::vector<fs::path>& made) {
    for (const auto& file : made) {
        if (file.parent_path() != from) {
            continue;
        }
        for (auto& word : command) {
            if (word == file.string()) {
                word = (to / file.filename()).string();
            }
        }
    }
}

}  // namespace

Status apply_isolation(const IsolationPaths& paths,
                       const std::optional<std::string>& sandbox_executable,
                       const RunOptions& options, const fs::path& callback_dir, JobConfig& job) {
    const fs::path pdd = real_path(job.private_data_dir);
    if (sandbox_executable) {
        auto path = job.env.get("PATH");
        if (util::find_executable(*sandbox_executable, path.value_or("")).empty()) {
            return Error{"Unable to find process isolation executable: " + *sandbox_executable +
                         " (process_isolation_executable; for bwrap, install bubblewrap)"};
        }
        if (!options.project_dir) {
            ARUNNER_TRY(check_stays_inside(job.project_dir, pdd, "project_dir"));
        }
        if (!options.artifact_dir) {
            ARUNNER_TRY(check_stays_inside(job.artifact_dir.parent_path(), pdd, "artifact_dir"));
        }
    }
    std::optional<fs::path> copy;
    if (paths.directory_base) {
        const fs::path base = util::absolute_path(*paths.directory_base);
        ARUNNER_ASSIGN_OR_RETURN(
            copy, make_temp_dir(base, "runner_di_", "directory_isolation_base_path"));
        std::error_code ec;
        if (fs::exists(job.project_dir, ec)) {
            if (auto copied = util::copy_tree(job.project_dir, *copy); !copied) {
                (void)util::remove_tree(*copy);
                return Error{"directory isolation: " + copied.error().message};
            }
        }
        point_into_copy(job.command, job.project_dir, *copy, job.remove_after_run);
        job.remove_after_run.push_back(*copy);
        if (job.cwd == job.project_dir) {
            job.cwd = *copy;
        }
    }
    // directory_isolation_cleanup false: the copy stays after the run (not after an error).
    auto done = [&]() -> Status {
        if (copy && !paths.directory_cleanup) {
            auto& list = job.remove_after_run;
            list.erase(std::remove(list.begin(), list.end(), *copy), list.end());
        }
        return {};
    };
    if (!sandbox_executable) {
        return done();
    }
    // What every sandboxed job needs: the private data dir, its artifacts, its project (or the
    // copy), arunner's callback plugin and the ssh-agent's socket dir. The run's own inputs in
    // the private data dir are read-only, so a job cannot rewrite the next run's settings (say,
    // turn the sandbox off in env/settings).
    std::vector<SandboxMount> implicit = {{SandboxMount::Kind::show, pdd, pdd}};
    auto show_outside_pdd = [&](const fs::path& path) {
        fs::path real = real_path(path);
        if (real.empty()) {
            real = path;  // made by the run before the sandbox starts (the artifact root)
        }
        if (!is_within(real, pdd)) {
            implicit.push_back({SandboxMount::Kind::show, real, real});
        }
    };
    show_outside_pdd(job.artifact_dir.parent_path());
    show_outside_pdd(copy ? *copy : job.project_dir);
    for (const RunInput& input : present_run_inputs(pdd)) {
        if (is_within(input.real, pdd)) {
            implicit.push_back({SandboxMount::Kind::read_only, input.real, input.real});
        }
    }
    // AWX_LIB_DIRECTORY replaces the callback dir in the job's environment: that one is shown.
    const fs::path plugin_dir = job.env.get("AWX_LIB_DIRECTORY").value_or(callback_dir.string());
    if (fs::path real = real_path(plugin_dir); !real.empty()) {
        implicit.push_back({SandboxMount::Kind::read_only, real, real});
    }
    // arunner's own start-up hook (job.python_boot_dir) even when the plugin is another's.
    if (fs::path real = real_path(job.python_boot_dir);
        !real.empty() && plugin_dir != callback_dir) {
        implicit.push_back({SandboxMount::Kind::read_only, real, real});
    }
    if (job.ssh_key && !job.ssh_key->agent_socket_dir.empty()) {
        // Made by the run before the sandbox starts: taken as it is.
        const fs::path& dir = job.ssh_key->agent_socket_dir;
        implicit.push_back({SandboxMount::Kind::show, dir, dir});
    }
    // Hiding what the job needs would leave it an empty directory to run in.
    for (const auto& hidden : paths.hide) {
        const fs::path real = real_path(hidden);
        for (const auto& needed : implicit) {
            if (!real.empty() && real == needed.path && needed.kind == SandboxMount::Kind::show) {
                return Error{"process_isolation_hide_paths: " + hidden +
                             " is a directory the job needs (the private data dir, its "
                             "artifacts, its project or the ssh-agent's); it cannot be hidden"};
            }
        }
    }
    // ansible-runner: a module runs from the private data dir, anything else from the cwd.
    const bool module_run = !options.binary && options.module.has_value();
    const fs::path chdir = module_run ? pdd : real_path(job.cwd);
    ARUNNER_ASSIGN_OR_RETURN(auto plan,
                             plan_sandbox(paths, *sandbox_executable, std::move(implicit), chdir));
    job.remove_after_run.push_back(plan.staging_dir);
    job.command = sandbox_command(plan, read_host_root(), job.command);
    return done();
}

}  // namespace arunner::config
