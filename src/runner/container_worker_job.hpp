#pragma once
// One job run by a worker in a container (--container-worker; docs/container-worker.md). The
// controller transmits the job into the container's stdin through the engine's attach socket
// and processes the worker stream that comes back on the job's own thread, as `arunner process`
// would: the console echo, job_events/ (live), the callbacks, the artifacts zip at the end. The
// private data dir is not mounted. The end of the job is the stream's eof, not the engine's
// wait; the container is removed on every path.

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"
#include "config/job_config.hpp"
#include "runner/local_job.hpp"

namespace arunner::runner {

/// Runs `job` (job.worker_container set; `options` are what it was prepared from) to the end.
/// An Error when the job could not be set up, or ended in an error (the worker reported one, the
/// stream was cut: the message says what the engine knows of the container's end).
Result<JobOutcome> run_worker_container_job(const RunOptions& options, const config::JobConfig& job,
                                            const JobHooks& hooks);

}  // namespace arunner::runner
