// include/arunner/streaming.hpp: the public names of the three streaming ends.

#include "arunner/streaming.hpp"

#include "runner/worker_job.hpp"
#include "stream/processor.hpp"
#include "stream/transmitter.hpp"

namespace arunner {

Status transmit(const RunOptions& options, int out_fd, bool only_kwargs) {
    return stream::transmit(options, out_fd, only_kwargs);
}

Result<int> work(int in_fd, int out_fd, const WorkerOptions& options) {
    return runner::run_worker(in_fd, out_fd, options);
}

Result<ProcessResult> process(int in_fd, const ProcessorOptions& options) {
    stream::ProcessResult processed = stream::run_processor(in_fd, options);
    if (processed.status == JobStatus::error) {
        return Error{std::move(processed.error)};
    }
    return ProcessResult{processed.status, std::move(processed.artifact_dir)};
}

}  // namespace arunner
