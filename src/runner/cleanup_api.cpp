// The public worker_cleanup() (include/arunner/cleanup.hpp): the dirs step here in runner/ (it
// knows the worker's lock), the image and container steps through one engine connection, made
// only when a step needs it (the embedded podman service when no socket answers).

#include "arunner/cleanup.hpp"

#include <optional>

#include "isolation/container_sweep.hpp"
#include "isolation/engine_connection.hpp"
#include "isolation/image_cleanup.hpp"
#include "runner/worker_cleanup.hpp"

namespace arunner {

Result<bool> worker_cleanup(const WorkerCleanupOptions& options, std::FILE* out) {
    runner::CleanupOptions dirs_options;
    dirs_options.file_pattern = options.file_pattern;
    dirs_options.exclude_strings = options.exclude_strings;
    dirs_options.grace_period_minutes = options.grace_period_minutes;
    ARUNNER_ASSIGN_OR_RETURN(const runner::CleanupResult dirs,
                             runner::cleanup_private_data_dirs(dirs_options, out));

    std::optional<isolation::EngineConnection> connection;
    auto engine = [&]() -> Result<engine::ContainerEngine*> {
        if (!connection) {
            ARUNNER_ASSIGN_OR_RETURN(
                auto made, isolation::connect_engine(
                               isolation::dialect_of(options.executable), "",
                               "worker cleanup needs a " + options.executable + " engine"));
            connection = std::move(made);
        }
        return connection->engine.get();
    };
    int images = 0;
    if (!options.remove_images.empty()) {
        ARUNNER_ASSIGN_OR_RETURN(engine::ContainerEngine * e, engine());
        ARUNNER_ASSIGN_OR_RETURN(images, isolation::remove_images(*e, options.remove_images));
        if (images > 0) {
            std::fprintf(out, "Removed %d image(s)\n", images);
        }
    }
    bool pruned = false;
    if (options.image_prune) {
        ARUNNER_ASSIGN_OR_RETURN(engine::ContainerEngine * e, engine());
        ARUNNER_ASSIGN_OR_RETURN(pruned, isolation::prune_images(*e));
        if (pruned) {
            std::fprintf(out, "Pruned images\n");
        }
    }
    int swept = 0;
    if (options.containers) {
        ARUNNER_ASSIGN_OR_RETURN(engine::ContainerEngine * e, engine());
        ARUNNER_ASSIGN_OR_RETURN(swept, isolation::cleanup_orphaned_containers(*e, out));
        if (swept > 0) {
            std::fprintf(out, "Removed %d container(s)\n", swept);
        }
    }
    return dirs.changed || images > 0 || pruned || swept > 0;
}

}  // namespace arunner
