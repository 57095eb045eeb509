#pragma once
// ART = <artifact root>/<ident>: the files ansible-runner writes for each run, with its modes and
// formats (docs/artifacts.md), and the rotation of old artifact dirs.
//
// ART is shared with the job (a container bind-mounts it writable), so the job may replace
// <ident> by a symlink while it runs. ART is therefore opened once, O_DIRECTORY|O_NOFOLLOW,
// before the job starts, and every later write goes through that fd with O_NOFOLLOW: whatever
// the job does to the tree, arunner writes only into the directory it created (the artifact
// root above it is the user's and may be a symlink they made).

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
    /// Creates ART (and missing parents) and ART/job_events, each mode 0700, and opens ART.
    /// A symlink at ART itself is refused.
    static Result<ArtifactDir> create(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path job_events_dir() const { return path_ / "job_events"; }
    /// The open ART directory: write relative to it (openat with O_NOFOLLOW), never by path.
    int fd() const { return fd_.get(); }

    /// ART/command (0600): `{"command": [...], "cwd": "...", "env": {...}}` in Python JSON
    /// with raw UTF-8, the env in its order.
    Status write_command(const std::vector<std::string>& command, const std::string& cwd,
                         const util::Environment& env) const;

    /// Creates (replaces) ART/stdout and ART/stderr, both 0600, and keeps them open for append.
    Status open_output_files();
    /// Appends to ART/stdout / ART/stderr (no-ops when the files were not opened).
    Status append_stdout(std::string_view bytes);
    Status append_stderr(std::string_view bytes);
    /// Closes ART/stdout and ART/stderr.
    void close_output_files();

    /// ART/status (0600, no newline), written to a temp name and renamed: on failure (a full
    /// disk) the previous content stays and the error is returned.
    Status write_status(JobStatus status) const;
    /// ART/rc (0600, no newline): the number, or `None` when there is none; atomic as status.
    Status write_rc(std::optional<int> rc) const;
    /// ART/env.list (0600): the container job's environment, NAME=VALUE lines joined by '\n'
    /// without a final newline, as ansible-runner writes it for `--env-file`.
    Status write_env_list(const util::Environment& env) const;
    /// Any other file directly in ART (0600), e.g. container_id.
    Status write_file(const std::string& name, std::string_view content) const;
    /// Makes sure the fact cache dir ansible is handed (`fact_cache_dir`, when it lies beneath
    /// ART) is a real directory inside ART: each of its components that a previous job replaced
    /// with a link, a file or a FIFO is removed (never followed) and made again as a directory
    /// (0700). Missing components are left for ansible to make. One outside ART is the user's.
    Status repair_fact_cache(const std::filesystem::path& fact_cache_dir) const;

  private:
    ArtifactDir(std::filesystem::path path, util::UniqueFd fd)
        : path_(std::move(path)), fd_(std::move(fd)) {}
    std::filesystem::path path_;
    util::UniqueFd fd_;
    util::UniqueFd stdout_;
    util::UniqueFd stderr_;
};

/// Writes `content` to `<art>/<name>` (0600) through a fresh O_NOFOLLOW open of `art`, for
/// callers that hold only ART's path: a symlink at ART is refused, not followed. Atomic (temp
/// name and rename) when `atomic`.
Status write_art_file(const std::filesystem::path& art, const std::string& name,
                      std::string_view content, bool atomic);

/// Keeps only the `keep` most recently modified entries of `artifact_root` (every entry counts,
/// as in ansible-runner); 0 keeps everything. The entry named `current` (the running job's
/// ident) counts as the newest, whatever its mtime: it is never removed. Removal goes through
/// directory fds and never follows a symlink (a symlinked entry is removed itself).
Status rotate_artifacts(const std::filesystem::path& artifact_root, int keep,
                        const std::string& current = "");

}  // namespace arunner::artifacts
