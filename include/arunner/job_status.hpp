#pragma once
// The status words of a job, exactly as ansible-runner writes them to ART/status.

#include <string_view>

namespace arunner {

/// Where a job is in its life.
enum class JobStatus {
    unstarted,   ///< not run yet
    starting,    ///< artifacts being prepared
    running,     ///< the child is running
    successful,  ///< the child exited with rc 0
    failed,      ///< the child exited non-zero, or could not be started
    canceled,    ///< canceled (signal or cancel callback): rc 254
    timeout,     ///< job or idle timeout: rc 254
    error,       ///< streaming only: the worker or processor failed
};

/// The word ansible-runner uses for `status`.
constexpr std::string_view to_string(JobStatus status) {
    switch (status) {
        case JobStatus::unstarted:
            return "unstarted";
        case JobStatus::starting:
            return "starting";
        case JobStatus::running:
            return "running";
        case JobStatus::successful:
            return "successful";
        case JobStatus::failed:
            return "failed";
        case JobStatus::canceled:
            return "canceled";
        case JobStatus::timeout:
            return "timeout";
        case JobStatus::error:
            return "error";
    }
    return "unknown";
}

/// ansible-runner's rc for canceled and timed-out jobs.
inline constexpr int kRcCanceledOrTimeout = 254;
/// ansible-runner's rc when the executable could not be started.
inline constexpr int kRcNotFound = 127;

}  // namespace arunner
