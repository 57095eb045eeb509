#pragma once
// `arunner process`: reads a worker stream and writes what a local run would have left: the
// events in job_events/, the artifacts zip unpacked into the artifact dir, the stdout echoed,
// and the callbacks called (SPEC §6.6).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "arunner/runner.hpp"
#include "stream/zip_reader.hpp"

namespace arunner::stream {

/// How a processor runs.
struct ProcessorOptions {
    std::filesystem::path private_data_dir;             ///< required
    std::optional<std::string> ident;                   ///< artifacts go to PDD/artifacts/<ident>
    std::optional<std::filesystem::path> artifact_dir;  ///< or exactly here
    bool quiet = false;
    int console_fd = 1;
    /// event_handler, status_handler and artifacts_handler as for a run; finished is called
    /// with the result below.
    RunCallbacks callbacks;
    ExtractLimits limits;
};

/// What the stream said.
struct ProcessResult {
    JobStatus status = JobStatus::unstarted;
    std::filesystem::path artifact_dir;
    std::string error;  ///< the job_explanation of an `error` status, if any
};

/// Processes one worker stream from `in_fd` to the end (or to the first error).
ProcessResult run_processor(int in_fd, const ProcessorOptions& options);

}  // namespace arunner::stream
