// The public process-wide set-up (include/arunner/program.hpp) over exec/ and isolation/.

#include "arunner/program.hpp"

#include "exec/job_processes.hpp"
#include "exec/termination_signals.hpp"
#include "isolation/embedded_podman.hpp"

namespace arunner {

bool become_subreaper() {
    return exec::become_subreaper();
}

void set_notice_handler(std::function<void(const std::string& line)> handler) {
    isolation::set_engine_notice(std::move(handler));
}

struct TerminationSignalGuard::Handlers {
    exec::TerminationSignals signals;
};

TerminationSignalGuard::TerminationSignalGuard() : handlers_(std::make_unique<Handlers>()) {}

TerminationSignalGuard::~TerminationSignalGuard() = default;

bool kill_process_tree(pid_t pid, std::chrono::milliseconds wait) {
    exec::JobProcesses processes(pid);
    processes.kill_all();
    return processes.wait_all(wait);
}

}  // namespace arunner
