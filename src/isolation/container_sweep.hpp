#pragma once
// Containers whose arunner is gone. Every container arunner creates carries a label naming its
// controller (kControllerLabel): the controller's pid and start time, the boot it runs in and
// its pid namespace. A container is swept (stopped, then force-removed) only when its controller
// is provably gone: the label parses, names this boot and this pid namespace, and no process has
// that pid or the one that has it started at another time. A controller in another pid
// namespace, on another boot or another host sharing the engine, or a label that does not parse,
// is never judged dead: such containers are kept. See docs/orphans.md.
//
// The sweep runs at every container job's start, before create (a SIGKILLed controller's
// container would otherwise block a re-run with the same ident), and from
// `arunner worker cleanup --containers`.

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arunner/error.hpp"
#include "engine/container_engine.hpp"

namespace arunner::isolation {

/// The label naming the arunner process that created a container.
inline constexpr const char* kControllerLabel = "arunner.controller";

/// Who created a container: enough to tell, on the same host, whether it still runs.
struct ControllerId {
    pid_t pid = 0;
    uint64_t start_time = 0;     ///< /proc/<pid>/stat field 22, clock ticks since boot
    std::string boot_id;         ///< /proc/sys/kernel/random/boot_id
    uint64_t pid_namespace = 0;  ///< inode of /proc/self/ns/pid
};

/// "pid=1234 start=5678 boot=<uuid> pidns=4026531836".
std::string format_controller_label(const ControllerId& id);
/// The inverse; empty for anything else (a missing or repeated field, a number out of range).
std::optional<ControllerId> parse_controller_label(std::string_view text);

/// What this host shows about processes: the seam the unit tests fake.
struct HostView {
    std::string boot_id;
    uint64_t pid_namespace = 0;
    /// The start time of the process with `pid`; empty when there is none.
    std::function<std::optional<uint64_t>(pid_t)> start_time_of;
};

/// This process as a controller; an Error when /proc does not say (then no label is written
/// and nothing is swept).
Result<ControllerId> this_controller();
/// This host, from /proc.
Result<HostView> this_host();

/// Whether the controller a container's labels name is provably gone, with the reason in words
/// ("its arunner (pid 123) is gone"). Empty when it lives or cannot be judged.
std::optional<std::string> controller_gone(
    const std::vector<std::pair<std::string, std::string>>& labels, const HostView& host);

/// Whether the controller the labels name is this very process's or another live one: the words
/// for an error ("arunner (pid 123), still running"); empty when it cannot be said.
std::optional<std::string> live_controller(
    const std::vector<std::pair<std::string, std::string>>& labels, const HostView& host);

/// One container the sweep removed (or failed to).
struct SweptContainer {
    std::string id;
    std::string name;
    std::string reason;  ///< why its controller counts as gone
};

/// What a sweep did.
struct SweepReport {
    std::vector<SweptContainer> removed;
    std::vector<std::string> errors;  ///< one line per container that could not be removed
};

/// Lists the containers carrying kControllerLabel and removes those whose controller is gone
/// (stop, then remove with force). Fails only when the list itself fails.
Result<SweepReport> sweep_orphaned_containers(engine::ContainerEngine& engine,
                                              const HostView& host);

/// `arunner worker cleanup --containers`: sweeps `engine` and prints one line per container
/// removed to `out`. How many were removed.
Result<int> cleanup_orphaned_containers(engine::ContainerEngine& engine, std::FILE* out);

}  // namespace arunner::isolation
