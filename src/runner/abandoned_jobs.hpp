#pragma once
// Local jobs whose arunner was killed (docs/abandoned-jobs.md). While a local job runs, its
// arunner holds a record in the registry dir, locked with flock(): the lock goes with the
// process, however it ends. Every process of the job carries ARUNNER_JOB=<the record's marker>
// in its environment (added at spawn, like ARUNNER_FRAME_FD, so ART/command does not show it).
// Before a local job starts, arunner ends the jobs of records whose lock is free: it kills every
// process whose environment carries their marker, writes status `error` and rc 1 to their ART
// (when the dead arunner wrote none) with the reason at the end of ART/stdout, and removes the
// record.
//
// What this cannot find: a process that both clears its environment and leaves the job (a
// cgroup per job would; the machines arunner runs on do not all offer one to a non-root user).

#include <filesystem>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::runner {

/// The variable that marks every process of a local job.
inline constexpr const char* kJobMarkerVariable = "ARUNNER_JOB";

/// The registry: $ARUNNER_RUNTIME_DIR, else /run/arunner/jobs for root, else
/// $XDG_RUNTIME_DIR/arunner/jobs, else /tmp/arunner-<uid>/jobs.
std::filesystem::path job_registry_dir();

/// One running job's record, locked while it lives; removed when destroyed.
class JobRecord {
  public:
    /// Creates the registry dir (0700, ours, not a link) when missing and the record for the
    /// job whose ART is `artifact_dir`; `marker` is what its processes will carry.
    static Result<JobRecord> create(const std::filesystem::path& registry,
                                    const std::filesystem::path& artifact_dir,
                                    const std::string& ident);
    JobRecord(JobRecord&&) = default;
    JobRecord& operator=(JobRecord&&) = default;
    ~JobRecord();

    /// `ARUNNER_JOB=<marker>`, for the job's environment.
    std::string environment_entry() const;

  private:
    JobRecord() = default;
    util::UniqueFd dir_;
    util::UniqueFd file_;
    std::string name_;
    std::string marker_;
};

/// Ends the jobs of every record in `registry` whose arunner is gone; one line per job ended
/// (what was done), or per record that could not be handled.
std::vector<std::string> end_abandoned_jobs(const std::filesystem::path& registry);

}  // namespace arunner::runner
