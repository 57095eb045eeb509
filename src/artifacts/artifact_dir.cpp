#include "artifacts/artifact_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "util/files.hpp"
#include "util/python_json.hpp"

namespace arunner::artifacts {

namespace fs = std::filesystem;

Result<ArtifactDir> ArtifactDir::create(const fs::path& path) {
    // The artifact root (and above) is the user's: created and followed as given. ART itself
    // is made here and opened without following a link.
    fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    ARUNNER_TRY(util::make_dirs(parent, 0700));
    util::UniqueFd root(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) {
        return util::errno_error("cannot open directory", parent, errno);
    }
    ARUNNER_ASSIGN_OR_RETURN(auto fd,
                             util::make_dir_at(root.get(), path.filename().string(), 0700, path));
    // ansible-runner's dirs are exactly 0700, existing ones included.
    if (::fchmod(fd.get(), 0700) != 0) {
        return util::errno_error("cannot chmod", path, errno);
    }
    ARUNNER_ASSIGN_OR_RETURN(auto events,
                             util::make_dir_at(fd.get(), "job_events", 0700, path / "job_events"));
    if (::fchmod(events.get(), 0700) != 0) {
        return util::errno_error("cannot chmod", path / "job_events", errno);
    }
    return ArtifactDir(path, std::move(fd));
}

Status ArtifactDir::write_command(const std::vector<std::string>& command, const std::string& cwd,
                                  const util::Environment& env) const {
    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    doc["command"] = command;
    doc["cwd"] = cwd;
    nlohmann::ordered_json env_json = nlohmann::ordered_json::object();
    for (const auto& [name, value] : env.entries()) {
        env_json[name] = value;
    }
    doc["env"] = std::move(env_json);
    return write_file("command", util::python_json_dumps(doc, false));
}

Status ArtifactDir::write_file(const std::string& name, std::string_view content) const {
    return util::write_file_at(fd_.get(), name, content, 0600, path_ / name);
}

Status ArtifactDir::repair_fact_cache(const fs::path& fact_cache_dir) const {
    const fs::path rel = fact_cache_dir.lexically_relative(path_);
    if (rel.empty() || *rel.begin() == "..") {
        return {};
    }
    util::UniqueFd dir(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    fs::path shown = path_;
    for (const auto& part : rel) {
        if (part == ".") {
            continue;
        }
        const std::string name = part.string();
        shown /= part;
        struct stat st {};
        if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            return {};  // missing: ansible makes it
        }
        if (!S_ISDIR(st.st_mode)) {
            ARUNNER_TRY(util::remove_tree_at(dir.get(), name, shown));
        }
        ARUNNER_ASSIGN_OR_RETURN(dir, util::make_dir_at(dir.get(), name, 0700, shown));
    }
    return {};
}

Status ArtifactDir::open_output_files() {
    for (auto [name, fd] : {std::pair{"stdout", &stdout_}, std::pair{"stderr", &stderr_}}) {
        ARUNNER_ASSIGN_OR_RETURN(
            *fd, util::create_file_at(fd_.get(), name, 0600, path_ / name, O_APPEND));
    }
    return {};
}

Status ArtifactDir::append_stdout(std::string_view bytes) {
    if (stdout_.valid() && !util::write_all(stdout_.get(), bytes)) {
        return util::errno_error("cannot write", path_ / "stdout", errno);
    }
    return {};
}

Status ArtifactDir::append_stderr(std::string_view bytes) {
    if (stderr_.valid() && !util::write_all(stderr_.get(), bytes)) {
        return util::errno_error("cannot write", path_ / "stderr", errno);
    }
    return {};
}

void ArtifactDir::close_output_files() {
    stdout_.reset();
    stderr_.reset();
}

Status ArtifactDir::write_status(JobStatus status) const {
    return util::write_file_atomic_at(fd_.get(), "status", to_string(status), 0600,
                                      path_ / "status");
}

Status ArtifactDir::write_env_list(const util::Environment& env) const {
    std::string text;
    for (const auto& [name, value] : env.entries()) {
        if (!text.empty()) {
            text += '\n';
        }
        text += name;
        text += '=';
        text += value;
    }
    return write_file("env.list", text);
}

Status ArtifactDir::write_rc(std::optional<int> rc) const {
    return util::write_file_atomic_at(
        fd_.get(), "rc", rc ? std::to_string(*rc) : std::string("None"), 0600, path_ / "rc");
}

Status write_art_file(const fs::path& art, const std::string& name, std::string_view content,
                      bool atomic) {
    ARUNNER_ASSIGN_OR_RETURN(auto fd, util::open_dir_at(AT_FDCWD, art, art));
    return atomic ? util::write_file_atomic_at(fd.get(), name, content, 0600, art / name)
                  : util::write_file_at(fd.get(), name, content, 0600, art / name);
}

Status rotate_artifacts(const fs::path& artifact_root, int keep, const std::string& current) {
    if (keep < 1) {
        return {};
    }
    auto root = util::UniqueFd(::open(artifact_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) {
        return util::errno_error("cannot list", artifact_root, errno);
    }
    std::vector<std::pair<timespec, std::string>> entries;
    {
        util::UniqueFd copy(::dup(root.get()));
        DIR* stream = copy.valid() ? ::fdopendir(copy.get()) : nullptr;
        if (stream == nullptr) {
            return util::errno_error("cannot list", artifact_root, errno);
        }
        copy.release();
        std::unique_ptr<DIR, int (*)(DIR*)> closer(stream, ::closedir);
        while (dirent* ent = ::readdir(stream)) {
            std::string_view name = ent->d_name;
            if (name == "." || name == "..") {
                continue;
            }
            struct stat st {};  // the entry itself: a symlink's own mtime, as it is removed
            if (::fstatat(root.get(), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                continue;
            }
            entries.emplace_back(st.st_mtim, std::string(name));
        }
    }
    if (entries.size() <= static_cast<size_t>(keep)) {
        return {};
    }
    // Oldest first; the current run's dir last whatever its mtime (a job can set it in the
    // future or the past), so it is always among those kept.
    std::sort(entries.begin(), entries.end(), [&current](const auto& l, const auto& r) {
        const bool l_current = !current.empty() && l.second == current;
        const bool r_current = !current.empty() && r.second == current;
        if (l_current != r_current) {
            return r_current;
        }
        return l.first.tv_sec != r.first.tv_sec     ? l.first.tv_sec < r.first.tv_sec
               : l.first.tv_nsec != r.first.tv_nsec ? l.first.tv_nsec < r.first.tv_nsec
                                                    : l.second < r.second;
    });
    size_t remove = entries.size() - static_cast<size_t>(keep);
    for (size_t i = 0; i < remove; ++i) {
        Status removed =
            util::remove_tree_at(root.get(), entries[i].second, artifact_root / entries[i].second);
        if (!removed) {
            return Error{"cannot remove old artifacts: " + removed.error().message};
        }
    }
    return {};
}

}  // namespace arunner::artifacts
