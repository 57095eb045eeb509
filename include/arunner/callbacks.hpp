#pragma once
// The five callbacks of ansible-runner and the status update they receive: what a local run
// (arunner/runner.hpp) and a processed stream (arunner/streaming.hpp) report through. Which
// thread calls them is said by those headers.

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arunner/job_status.hpp"

namespace arunner {

using Json = nlohmann::ordered_json;
class Runner;

/// One status change, as ansible-runner's status_handler receives it.
struct StatusUpdate {
    JobStatus status = JobStatus::unstarted;
    std::string runner_ident;
    /// For `starting` only: the command, its environment (in order) and cwd.
    std::vector<std::string> command;
    std::vector<std::pair<std::string, std::string>> env;
    std::string cwd;
    /// For `error` from a worker stream: why, and the worker's traceback, as its status line
    /// said them (ansible-runner's `job_explanation`, `result_traceback`); empty otherwise.
    std::string job_explanation;
    std::string result_traceback;
};

/// The five callbacks of ansible-runner, with its semantics. Any may be empty.
struct RunCallbacks {
    /// Each complete event (keys as in job_events), before its file is written. Returning false
    /// means the `job_events/<counter>-<uuid>.json` file is not written. The handler may modify
    /// the event; the file gets the modified event.
    std::function<bool(Json& event)> event_handler;
    /// Each status change: starting (with command, env, cwd), running, then the final status.
    std::function<void(const StatusUpdate& update)> status_handler;
    /// Polled while the child runs (every output burst, and at least every `pexpect_timeout`
    /// seconds of env/settings, 5 by default); true cancels the job: status `canceled`, rc 254,
    /// the child's whole process group killed. Without one, a job run from the main thread is
    /// canceled by SIGINT or SIGTERM instead (ansible-runner's default).
    std::function<bool()> cancel_callback;
    /// After ART/status and ART/rc are written, with ART.
    std::function<void(const std::filesystem::path& artifact_dir)> artifacts_handler;
    /// Last of all, with the finished Runner.
    std::function<void(const Runner& runner)> finished_callback;
};

}  // namespace arunner
