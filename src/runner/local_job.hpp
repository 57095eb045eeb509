#pragma once
// One local run from start to end (ansible-runner's Runner.run): status `starting`, the artifact
// dir and its command file, rotation, stdout/stderr files, status `running`, the supervised child,
// then the final status and rc written to ART.

#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/job_status.hpp"
#include "arunner/runner.hpp"
#include "config/job_config.hpp"
#include "exec/supervisor.hpp"
#include "isolation/image_pull.hpp"

#include <nlohmann/json.hpp>

namespace arunner::runner {

/// What a caller can plug into a run. Every hook is called on the calling thread.
struct JobHooks {
    /// Called at each status change (starting, running, then the final one).
    std::function<void(JobStatus)> on_status;
    /// A worker-container job: called instead for each status the worker reports (with the
    /// worker's command, env and cwd); on_status still gets the statuses the controller decides
    /// (canceled, timeout).
    std::function<void(const StatusUpdate& update)> on_worker_status;
    /// Each becomes readable when the job must be canceled (TerminationSignals::fd(), a pipe a
    /// failing callback writes to); -1 entries are ignored.
    std::vector<int> cancel_fds;
    /// Polled while the child runs; true cancels the job.
    exec::CancelCheck should_cancel;
    /// Called with each complete event before its job_events file is written; false skips the
    /// file (ansible-runner's event_handler). May be empty.
    std::function<bool(nlohmann::ordered_json& event)> event_handler;
    /// Called after an event's file is written, with its path. May be empty.
    std::function<void(const std::filesystem::path& file)> on_event_written;
    /// Asked at the end: true makes the job's status `error` and rc 1 (a callback failed).
    std::function<bool()> failed;
    /// Where the console echo goes (unless the job suppresses it); -1 = nowhere.
    int console_fd = 1;
};

/// How a run ended.
struct JobOutcome {
    JobStatus status = JobStatus::unstarted;
    std::optional<int> rc;  ///< empty when the child was killed by a signal (ansible-runner's None)
    bool canceled = false;
    bool timed_out = false;
    std::filesystem::path artifact_dir;
};

/// Runs `job` to the end. An Error means the run could not be set up or its artifacts could not
/// be written; the child is never left running.
Result<JobOutcome> run_job(const config::JobConfig& job, const JobHooks& hooks);

/// What the pull of a container job's image may use: the job's console (progress, unless the
/// job is quiet) and its cancel fds and check.
isolation::PullContext pull_context(const config::JobConfig& job, const JobHooks& hooks);

}  // namespace arunner::runner
