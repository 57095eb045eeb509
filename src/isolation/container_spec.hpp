#pragma once
// What container a process-isolated job runs in: the ContainerSpec made from a resolved job
// (docs/containers.md, translated from `podman run` words into REST fields): the private data dir
// at /runner (:Z), arunner's callback plugin read-only, the user's volume mounts normalised and
// checked as ansible-runner does, the job environment, a tty when a pty is wanted, and the
// container options the REST API can express. Pure: touches the filesystem only to look at
// mount sources.

#include <string>
#include <utility>
#include <vector>

#include "arunner/error.hpp"
#include "config/job_config.hpp"
#include "engine/container_engine.hpp"
#include "isolation/container_options.hpp"

namespace arunner::isolation {

/// The label every container arunner creates carries; its value is the job's ident.
inline constexpr const char* kIdentLabel = "arunner.ident";

/// Adds a "SRC:DST[:LABELS]" mount to `mounts` by ansible-runner's rules: SRC (vars and ~
/// expanded, made absolute) is skipped silently when it does not exist; DST defaults to SRC and
/// a relative DST is taken under `workdir`; a file mounts its parent directory on both sides;
/// '/', '/home' and '/usr' (or a file directly in one) are refused; an identical mount is not
/// added twice. LABELS is a comma list of ro, rw, z, Z; anything else is refused by name.
Status add_volume_mount(const std::string& mapping, const std::string& workdir,
                        std::vector<engine::Mount>& mounts);

/// ansible-runner's _ensure_path_safe_to_mount: '/', '/home' and '/usr' (or a file directly in
/// one of them) are refused with ansible-runner's message.
Status ensure_safe_to_mount(std::string path);

/// Sets `name` in an ordered environment, keeping its first place.
void set_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& name,
             const std::string& value);

// apply_container_options(), the translation of the user's container options (every
// `podman run` / `docker run` option with a field in the create API), is in
// isolation/container_options.hpp.

/// The FIFO in ART the run's frame secret reaches the container through (an inherited fd cannot
/// cross the REST API; docs/frames.md): exec::SecretFifo writes it to the first reader, the
/// command's init (kContainerInit), which runs before anything of the job.
inline constexpr const char* kFrameFifoName = "frame_secret";
/// The environment variable that names that FIFO inside the container.
inline constexpr const char* kFrameFifoVariable = "ARUNNER_FRAME_FIFO";

/// Names the frame secret's FIFO in the container's environment and puts the start-up hook
/// (config::kPythonBootDirName) first on its PYTHONPATH; called just before create. The secret
/// itself is never in the container's environment, nor in any artifact.
void add_frame_fifo(engine::ContainerSpec& spec, const std::string& ident);

/// The init a process-isolated job's command runs under (`sh -c SCRIPT sh COMMAND...`): the
/// plugin dir's `awx_display_boot/container_init/__init__.py`, run by the image's python3, takes
/// the frame secret from its FIFO, runs the command with the secret in a pipe at fd 3, then writes
/// the command's exit status as an exit frame, so the controller knows the end from the stream and
/// need not wait for the engine (docs/containers.md). An image without python3 runs the
/// command directly: no exit frame, and the engine's wait gives the end. Signals reach the
/// command as before: the container's init forwards them to the whole process group.
std::string container_init_script();

/// The container for `job` (job.container must be set).
Result<engine::ContainerSpec> make_container_spec(const config::JobConfig& job);

/// The container of a worker (job.worker_container must be set): the image and the worker's
/// command, stdin open for the job stream and closed by a half-close, no tty (the streams pass
/// byte for byte), no private data dir mount (the job arrives on stdin), an init, the user's
/// volume mounts and container options, the ident and controller labels.
Result<engine::ContainerSpec> make_worker_container_spec(const config::JobConfig& job);

}  // namespace arunner::isolation
