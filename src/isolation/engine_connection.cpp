#include "isolation/engine_connection.hpp"

#include <cstdlib>

#include "util/files.hpp"

namespace arunner::isolation {

engine::EngineDialect dialect_of(const std::string& executable) {
    return executable == "docker" ? engine::EngineDialect::docker : engine::EngineDialect::podman;
}

Result<EngineConnection> connect_engine(engine::EngineDialect dialect,
                                        const std::string& configured, const std::string& need) {
    auto found = engine::find_engine_socket(dialect, configured);
    if (!found) {
        return Error{need + ": " + found.error().message};
    }
    EngineConnection connection;
    if (*found) {
        connection.socket = **found;
    } else {
        const std::string tried = engine::engine_socket_search_path(dialect);
        if (dialect != engine::EngineDialect::podman) {
            return Error{need + ": no container engine socket found (tried " + tried +
                         "): start dockerd or name its socket with --container-engine-socket"};
        }
        const char* path = std::getenv("PATH");
        const std::string podman = util::find_executable("podman", path ? path : "");
        if (podman.empty()) {
            return Error{need + ": no container engine socket found (tried " + tried +
                         ") and podman is not installed (not on PATH) to start one: install "
                         "podman, or name an engine's socket with --container-engine-socket"};
        }
        auto service = EmbeddedPodman::acquire(podman);
        if (!service) {
            return Error{need + ": no container engine socket found (tried " + tried +
                         "), and starting one failed: " + service.error().message};
        }
        connection.service = std::move(*service);
        connection.socket = connection.service->socket();
    }
    engine::RestEngineOptions options;
    options.socket = connection.socket;
    options.dialect = dialect;
    ARUNNER_ASSIGN_OR_RETURN(connection.engine,
                             engine::RestContainerEngine::create(std::move(options)));
    return connection;
}

}  // namespace arunner::isolation
