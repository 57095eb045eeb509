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

/// The environment variable that carries the run's frame secret into the container (an
/// inherited fd cannot cross the REST API). The plugin removes it from its environment when it
/// loads, but a task inside the container may still read it (/proc/1/environ): docs/frames.md.
inline constexpr const char* kFrameSecretVariable = "ARUNNER_FRAME_SECRET";

/// Sets the run's frame secret in the container's environment; called just before create, so
/// that the secret is in no artifact (the spec's env is not recorded). Empty: nothing is set.
void add_frame_secret(engine::ContainerSpec& spec, const std::string& secret);

/// The shell script a process-isolated job's command runs under (`sh -c SCRIPT sh COMMAND...`):
/// it runs the command, then writes its exit status as an exit frame with the run's frame
/// secret, so the controller knows the end from the stream and need not wait for the engine
/// (docs/containers.md). Signals reach the command as before: the container's init forwards them
/// to the whole process group.
inline constexpr const char* kExitFrameScript =
    "\"$@\"; s=$?; [ -z \"$ARUNNER_FRAME_SECRET\" ] || "
    "printf '\\033_arunner:%s:exit:%d\\033\\\\' \"$ARUNNER_FRAME_SECRET\" \"$s\"; exit $s";

/// The container for `job` (job.container must be set).
Result<engine::ContainerSpec> make_container_spec(const config::JobConfig& job);

/// The container of a worker (job.worker_container must be set): the image and the worker's
/// command, stdin open for the job stream and closed by a half-close, no tty (the streams pass
/// byte for byte), no private data dir mount (the job arrives on stdin), an init, the user's
/// volume mounts and container options, the ident and controller labels.
Result<engine::ContainerSpec> make_worker_container_spec(const config::JobConfig& job);

}  // namespace arunner::isolation
