#pragma once
// ansible-runner's container_options (the words it passes to `podman run` / `docker run`)
// translated into the fields of a ContainerSpec, read as the engine CLIs read them:
// `--opt=value` and `--opt value`, `-xVALUE` for the short ones, boolean flags with an optional
// `=true|false`. docs/containers.md lists what each becomes and where the engines differ.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "arunner/error.hpp"
#include "engine/container_engine.hpp"

namespace arunner::isolation {

/// The options apply_container_options() translates, for messages and the docs.
inline constexpr const char* kTranslatedContainerOptions =
    "--env/-e, --env-file, --volume/-v, --mount, --tmpfs, --user/-u, --workdir/-w, "
    "--hostname/-h, --network/--net, --add-host, --dns, --dns-search, --dns-option, "
    "--memory/-m, --memory-swap, --memory-reservation, --cpus, --cpu-shares/-c, --cpuset-cpus, "
    "--cpuset-mems, --pids-limit, --shm-size, --ulimit, --cap-add, --cap-drop, --privileged, "
    "--security-opt, --device, --group-add, --userns, --ipc, --pid, --sysctl, --read-only, "
    "--stop-signal, --label/-l, --init, --pull, --platform (and --rm, --interactive/-i, "
    "--tty/-t, --quiet/-q, which change nothing)";

/// An --env-file larger than this is refused (it is read on the controller).
inline constexpr size_t kEnvFileMaxBytes = size_t{1} << 20;
/// An --env-file with more lines than this is refused.
inline constexpr size_t kEnvFileMaxLines = 10000;

/// Reads an --env-file as docker does: one `NAME=VALUE` per line (the value taken as written,
/// up to the line's end), a bare `NAME` takes the controller's own value when it has one and is
/// skipped otherwise, leading whitespace is ignored, and blank lines and lines starting with '#'
/// are skipped. The file is untrusted: it must be a regular file of at most kEnvFileMaxBytes and
/// kEnvFileMaxLines lines, valid UTF-8 without NUL bytes; every error names the file and the line.
Result<std::vector<std::pair<std::string, std::string>>> read_env_file(const std::string& path);

/// Applies engine CLI words (ansible-runner's container_options, e.g. "--network=host" or
/// "--network", "host") to `spec`. Every `podman run` / `docker run` option with a field in the
/// create API is translated (kTranslatedContainerOptions), each value checked as the CLIs check
/// it: a bad value is an Error that names the option and the value (and the allowed values when
/// they are few). --env-file values come before --env ones whatever their order, as in the CLIs.
/// --pull and --platform only set spec.pull_policy and spec.platform. Any other option is an
/// Error that names it and lists what is translated.
Status apply_container_options(const std::vector<std::string>& words, engine::ContainerSpec& spec);

}  // namespace arunner::isolation
