#pragma once
// Counts the processes the kernel's OOM killer has killed inside a container, from the
// container's memory cgroup on this host. Engines do not always say: podman 4.3 with conmon
// 2.1.6 on a cgroup-v1 host reports OOMKilled false even for a container that exited 137 out of
// memory, and when the killer picks a task of the job rather than the container's first
// process, no engine reports anything. docs/container-worker.md.

#include <optional>

#include "engine/container_engine.hpp"
#include "util/unique_fd.hpp"

namespace arunner::isolation {

class OomWatch {
  public:
    /// Opens the OOM counter of the running container `info` (cgroup v1 memory.oom_control or
    /// v2 memory.events, found through /proc/<pid>/cgroup). Nothing when the engine runs on
    /// another host or in another pid namespace (the cgroup of that pid must name the
    /// container's id), or the counter cannot be read.
    static std::optional<OomWatch> open(const engine::ContainerInfo& info);

    /// The count now (the file stays open, so it can be read while the container exits);
    /// nothing when it can no longer be read.
    std::optional<long long> kills() const;

  private:
    explicit OomWatch(util::UniqueFd fd) : fd_(std::move(fd)) {}
    util::UniqueFd fd_;
};

/// The oom_kill count in the text of a memory.oom_control (v1) or memory.events (v2) file.
std::optional<long long> parse_oom_kills(std::string_view text);

}  // namespace arunner::isolation
