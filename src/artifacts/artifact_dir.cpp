#include "artifacts/artifact_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/files.hpp"
#include "util/python_json.hpp"

namespace arunner::artifacts {

namespace fs = std::filesystem;

Result<ArtifactDir> ArtifactDir::create(const fs::path& path) {
    ARUNNER_TRY(util::make_dirs(path, 0700));
    ARUNNER_TRY(util::make_dirs(path / "job_events", 0700));
    return ArtifactDir(path);
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
    return util::write_file(path_ / "command", util::python_json_dumps(doc, false), 0600);
}

Status ArtifactDir::open_output_files() {
    for (auto [name, fd] : {std::pair{"stdout", &stdout_}, std::pair{"stderr", &stderr_}}) {
        fs::path file = path_ / name;
        fd->reset(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
        if (!fd->valid()) {
            return util::errno_error("cannot create", file, errno);
        }
        ::fchmod(fd->get(), 0600);
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
    return util::write_file(path_ / "status", to_string(status), 0600);
}

Status ArtifactDir::write_env_list(const util::Environment& env) const {
    std::string text;
    for (const auto& [name, value] : env.entries()) {
        if (!text.empty()) {
            text += '\n';
        }
        text += name + "=" + value;
    }
    return util::write_file(path_ / "env.list", text, 0600);
}

Status ArtifactDir::write_rc(std::optional<int> rc) const {
    return util::write_file(path_ / "rc", rc ? std::to_string(*rc) : std::string("None"), 0600);
}

Status rotate_artifacts(const fs::path& artifact_root, int keep) {
    if (keep < 1) {
        return {};
    }
    std::error_code ec;
    std::vector<std::pair<fs::file_time_type, fs::path>> entries;
    for (const auto& entry : fs::directory_iterator(artifact_root, ec)) {
        std::error_code time_ec;
        auto mtime = fs::last_write_time(entry.path(), time_ec);
        entries.emplace_back(mtime, entry.path());
    }
    if (ec) {
        return util::errno_error("cannot list", artifact_root, ec.value());
    }
    if (entries.size() <= static_cast<size_t>(keep)) {
        return {};
    }
    std::sort(entries.begin(), entries.end());
    size_t remove = entries.size() - static_cast<size_t>(keep);
    for (size_t i = 0; i < remove; ++i) {
        fs::remove_all(entries[i].second, ec);
        if (ec) {
            return util::errno_error("cannot remove old artifacts", entries[i].second, ec.value());
        }
    }
    return {};
}

}  // namespace arunner::artifacts
