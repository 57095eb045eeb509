#pragma once
// ART = <artifact root>/<ident>: the files ansible-runner writes for each run, with its modes and
// formats (SPEC §4.1), and the rotation of old artifact dirs (§4.2).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/job_status.hpp"
#include "util/environment.hpp"
#include "util/unique_fd.hpp"

namespace arunner::artifacts {

/// One run's artifact directory. Not thread-safe; owned by the job that writes it.
class ArtifactDir {
  public:
    /// Creates ART (and missing parents) and ART/job_events, each mode 0700.
    static Result<ArtifactDir> create(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path job_events_dir() const { return path_ / "job_events"; }

    /// ART/command (0600): `{"command": [...], "cwd": "...", "env": {...}}` in Python JSON
    /// with raw UTF-8, the env in its order.
    Status write_command(const std::vector<std::string>& command, const std::string& cwd,
                         const util::Environment& env) const;

    /// Creates (truncates) ART/stdout and ART/stderr, both 0600, and keeps them open for append.
    Status open_output_files();
    /// Appends to ART/stdout / ART/stderr (no-ops when the files were not opened).
    Status append_stdout(std::string_view bytes);
    Status append_stderr(std::string_view bytes);
    /// Closes ART/stdout and ART/stderr.
    void close_output_files();

    /// ART/status (0600, no newline).
    Status write_status(JobStatus status) const;
    /// ART/rc (0600, no newline): the number, or `None` when there is none.
    Status write_rc(std::optional<int> rc) const;
    /// ART/env.list (0600): the container job's environment, NAME=VALUE lines joined by '\n'
    /// without a final newline, as ansible-runner writes it for `--env-file`.
    Status write_env_list(const util::Environment& env) const;

  private:
    explicit ArtifactDir(std::filesystem::path path) : path_(std::move(path)) {}
    std::filesystem::path path_;
    util::UniqueFd stdout_;
    util::UniqueFd stderr_;
};

/// Keeps only the `keep` most recently modified entries of `artifact_root` (every entry counts,
/// as in ansible-runner); 0 keeps everything.
Status rotate_artifacts(const std::filesystem::path& artifact_root, int keep);

}  // namespace arunner::artifacts
