#include "isolation/container_job.hpp"

#include "artifacts/artifact_dir.hpp"
#include "engine/rest_container_engine.hpp"
#include "isolation/container_spec.hpp"
#include "isolation/engine_connection.hpp"
#include "isolation/supervised_container.hpp"

namespace arunner::isolation {
namespace {

/// Finds and probes the engine of `c` and makes its image present (pulled by its policy).
Result<PreparedContainer> prepare(const config::ContainerJobConfig& c, engine::ContainerSpec spec,
                                  const std::string& purpose, const PullContext& pull) {
    const engine::EngineDialect dialect = dialect_of(c.engine);
    ARUNNER_ASSIGN_OR_RETURN(
        auto connection,
        connect_engine(dialect, c.engine_socket,
                       purpose + " needs a " + c.engine + " engine (--container-engine-socket)"));
    PreparedContainer prepared;
    prepared.service = std::move(connection.service);
    prepared.engine = std::move(connection.engine);
    prepared.socket = connection.socket;
    prepared.spec = std::move(spec);
    if (auto ping = prepared.engine->ping(); !ping) {
        return Error{"the " + c.engine + " engine at " + prepared.socket.string() +
                     " cannot be used: " + ping.error().message};
    }
    ARUNNER_TRY(
        ensure_image(*prepared.engine, c.engine, prepared.socket, prepared.spec, c.auth, pull));
    return prepared;
}

}  // namespace

Result<PreparedContainer> prepare_container(const config::JobConfig& job, const PullContext& pull) {
    if (!job.container) {
        return Error{"internal: prepare_container on a job that is not containerized"};
    }
    ARUNNER_ASSIGN_OR_RETURN(auto spec, make_container_spec(job));
    return prepare(*job.container, std::move(spec), "process isolation", pull);
}

Result<PreparedContainer> prepare_worker_container(const config::JobConfig& job,
                                                   const PullContext& pull) {
    if (!job.worker_container) {
        return Error{"internal: prepare_worker_container on a job without a worker container"};
    }
    ARUNNER_ASSIGN_OR_RETURN(auto spec, make_worker_container_spec(job));
    return prepare(*job.worker_container, std::move(spec), "a worker container", pull);
}

Result<exec::Supervision> run_container(PreparedContainer& prepared,
                                        const std::filesystem::path& artifact_dir,
                                        exec::OutputSink& sink,
                                        const exec::SupervisionLimits& limits,
                                        std::span<const int> cancel_fds,
                                        const exec::CancelCheck& should_cancel) {
    engine::ContainerEngine& engine = *prepared.engine;
    ARUNNER_ASSIGN_OR_RETURN(const std::string id, create_container(engine, prepared.spec));
    RemoveGuard guard(engine, id);
    // Through an O_NOFOLLOW open of ART: a link planted at ART by an earlier job is not followed.
    ARUNNER_TRY(artifacts::write_art_file(artifact_dir, kContainerIdFile, id + "\n", false));

    ARUNNER_ASSIGN_OR_RETURN(auto stream, engine.attach(id));
    ARUNNER_ASSIGN_OR_RETURN(auto container,
                             SupervisedContainer::make(engine, id, std::move(stream)));
    SupervisedContainer& job = *container;
    ARUNNER_TRY(engine.start(id));
    // The command's wrapper reports its exit in-band (an exit frame, container_spec.hpp); only
    // a stream that ends without one (the container was killed or stopped) asks the engine.
    job.wait_when_output_ends();
    // Returns once the exit is known (supervise() waits for it).
    exec::Supervision result = exec::supervise(job, sink, limits, cancel_fds, should_cancel);
    auto wait_error = job.wait_error();
    auto removed = guard.remove();
    const bool stopped_by_us = result.canceled || result.timed_out;
    if (wait_error || job.stream_error() || !removed.ok()) {
        if (auto lost = engine_lost(engine, prepared.socket, id)) {
            return Error{*lost};
        }
    }
    if (wait_error && !stopped_by_us) {
        return Error{"waiting for container " + id + ": " + wait_error->message};
    }
    // Output lost on the way (an engine error frame, a cut stream) must not pass as a clean run.
    if (job.stream_error() && !stopped_by_us) {
        return Error{"reading the output of container " + id + ": " + job.stream_error()->message};
    }
    if (!removed.ok()) {
        return Error{"removing container " + id + ": " + removed.error().message};
    }
    return result;
}

}  // namespace arunner::isolation
