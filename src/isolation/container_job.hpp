#pragma once
// Runs a process-isolated job's container through the engine's REST socket, and never leaves it
// behind: preflight (socket, engine, image — pulled by the pull policy), create, the container id
// written to ART/container_id before start, attach before start, start, the job supervisor's loop
// over the attach stream (demultiplexed by the container's Tty), and removal on every path. Cancel,
// timeouts and SIGTERM/SIGINT stop the container (SIGTERM through its init, SIGKILL after a
// grace period) before it is removed.

#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "arunner/error.hpp"
#include "config/job_config.hpp"
#include "engine/container_engine.hpp"
#include "exec/supervisor.hpp"
#include "isolation/embedded_podman.hpp"
#include "isolation/image_pull.hpp"

namespace arunner::isolation {

/// File in ART that holds the id of the container the job ran in (written before start).
inline constexpr const char* kContainerIdFile = "container_id";

/// A checked engine and the container to create on it.
struct PreparedContainer {
    /// The podman service arunner started for this job, if it did (held until the container is
    /// gone: declared first, released last).
    std::shared_ptr<EmbeddedPodman> service;
    std::unique_ptr<engine::ContainerEngine> engine;
    std::filesystem::path socket;
    engine::ContainerSpec spec;
};

/// Builds the spec, finds and probes the engine, and makes the image present by the job's pull
/// policy (image_pull.hpp), pulling through the engine while `pull` allows. Each failure is an
/// Error that says what is wrong (no socket, not an engine, image missing and how to get it, the
/// registry's answer).
Result<PreparedContainer> prepare_container(const config::JobConfig& job,
                                            const PullContext& pull = {});

/// The same for the container of a worker (job.worker_container must be set).
Result<PreparedContainer> prepare_worker_container(const config::JobConfig& job,
                                                   const PullContext& pull = {});

/// Runs the prepared container to its end, handing its output to `sink`. The exit code is in
/// the result's wait_status as waitpid would give it. The container is removed before this
/// returns, whatever happened.
Result<exec::Supervision> run_container(PreparedContainer& prepared,
                                        const std::filesystem::path& artifact_dir,
                                        exec::OutputSink& sink,
                                        const exec::SupervisionLimits& limits,
                                        std::span<const int> cancel_fds,
                                        const exec::CancelCheck& should_cancel);

}  // namespace arunner::isolation
