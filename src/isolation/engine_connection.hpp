#pragma once
// Which engine a job talks to (docs/embedded-engine.md): the socket the user configured, else an
// engine already answering at a default socket, else — for podman, when it is installed — a
// podman service arunner starts for itself and stops when no job needs it.

#include <filesystem>
#include <memory>
#include <string>

#include "arunner/error.hpp"
#include "engine/rest_container_engine.hpp"
#include "isolation/embedded_podman.hpp"

namespace arunner::isolation {

/// The dialect for --process-isolation-executable `executable` ("docker", else podman).
engine::EngineDialect dialect_of(const std::string& executable);

/// A client of an engine socket. Nothing is connected yet.
struct EngineConnection {
    /// Set when arunner started the engine itself; keeps that service running while held (and is
    /// declared first so it is released after the client).
    std::shared_ptr<EmbeddedPodman> service;
    std::unique_ptr<engine::RestContainerEngine> engine;
    std::filesystem::path socket;
};

/// A client of the engine of `dialect`: `configured` when given, else what
/// engine::find_engine_socket() finds, else the embedded podman service (podman dialect, podman on
/// PATH). When there is no engine, the error is "<need>: <why>", so each caller says what wanted
/// the engine.
Result<EngineConnection> connect_engine(engine::EngineDialect dialect,
                                        const std::string& configured, const std::string& need);

}  // namespace arunner::isolation
