#pragma once
// arunner as a library: ansible-runner's run(), run_async() and Runner (docs/runner-api.md).
//
//     auto runner = arunner::run(options, callbacks);   // blocks until the job is over
//     if (!runner) { /* runner.error().message names the option or file at fault */ }
//     (*runner)->status(); (*runner)->rc(); (*runner)->events(); (*runner)->stats();
//
// Threads: every callback is called on the job's thread — the caller's for run() and Runner::run(),
// a thread of the Runner's own for run_async() and Runner::start(). All const member functions
// may be called from any thread at any time, also while the job runs.
//
// Ownership: run() and run_async() return a shared Runner; the job's thread holds a reference
// while it runs, so dropping yours never stops or orphans a job (cancel it with a
// cancel_callback). A Runner started with start() is joined by wait() or by its destructor.
//
// Errors: nothing here throws. Bad options or private data dir files are an Error from
// Runner::create()/run()/run_async() before anything starts. A callback that throws ends the
// job cleanly: the child is killed, the status is `error`, rc 1, and error_message() names the
// callback ("Exception in Event Handler: …").

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arunner/callbacks.hpp"
#include "arunner/error.hpp"
#include "arunner/job_status.hpp"
#include "arunner/run_options.hpp"

namespace arunner {

/// Reads events as they are written, in counter order, like ansible-runner's `events`
/// generator. Not thread-safe; make one per reading thread.
class EventStream {
  public:
    /// The next event, waiting for it while the job runs; empty once the job is over and every
    /// event has been read.
    std::optional<Json> next();

  private:
    friend class Runner;
    explicit EventStream(std::shared_ptr<const Runner> runner) : runner_(std::move(runner)) {}
    std::shared_ptr<const Runner> runner_;
    size_t position_ = 0;
};

/// One job. Create it, optionally seed its fact cache, then run() or start() it once.
class Runner : public std::enable_shared_from_this<Runner> {
  public:
    /// Validates `options` and reads the private data dir (env files, settings). Writes nothing
    /// but env/cmdline when a cmdline option must be dumped there (as ansible-runner does).
    static Result<std::shared_ptr<Runner>> create(const RunOptions& options,
                                                  RunCallbacks callbacks = {});
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    /// Runs the job to the end on this thread. Does nothing if it already ran or started.
    void run();
    /// Runs the job on a new thread and returns at once.
    void start();
    /// Blocks until the job is over (returns at once if it never started).
    void wait() const;
    /// True once the final status is set and every callback has returned.
    bool done() const;

    JobStatus status() const;
    /// The child's exit code; 254 for timeout or cancel, 127 if it could not start, 1 for an
    /// error; empty before the end or when a signal killed the child (ansible-runner's None).
    std::optional<int> rc() const;
    bool canceled() const;
    bool timed_out() const;
    /// True when the job ended in an error (a callback threw, artifacts could not be written).
    bool errored() const;
    /// What went wrong when errored(), naming the callback or file.
    std::string error_message() const;
    /// Ends the job in an error, as a callback that throws does: errored() becomes true with
    /// `error.message` (the first error wins) and the child is killed at once. Thread-safe; for
    /// a callback that cannot go on without throwing (e.g. its output stream broke).
    void fail(const Error& error);

    /// Leaves what was made for this run (a role's playbook, the project's copy, the sandbox's
    /// staging dir, a temporary private data dir) to another process: this Runner's destructor
    /// no longer removes them. For a program that forks and lets the child run the job (`arunner
    /// start`'s daemon); the child's Runner removes them after its run.
    void hand_over_run_files();

    const std::string& ident() const;
    /// The private data dir, absolute (a temporary one when the options gave none).
    const std::filesystem::path& private_data_dir() const;
    /// ART: <artifact root>/<ident>.
    const std::filesystem::path& artifact_dir() const;
    /// The command, environment and cwd the child gets.
    const std::vector<std::string>& command() const;
    const std::string& cwd() const;

    /// The events written so far, in counter order (a snapshot; also while the job runs).
    std::vector<Json> events() const;
    /// A stream of events that waits for new ones while the job runs.
    EventStream event_stream() const;
    /// The `playbook_on_stats` summary (skipped, ok, dark, failures, ignored, rescued,
    /// processed, changed), or empty if there is no stats event.
    std::optional<Json> stats() const;
    /// The events whose event_data.host is `host`.
    std::vector<Json> host_events(const std::string& host) const;

    /// The text of ART/stdout / ART/stderr; an Error ("stdout missing") if the file is not there.
    Result<std::string> stdout_text() const;
    Result<std::string> stderr_text() const;

    /// The cached facts of `host` (ART/fact_cache/<host>), `{}` when there are none.
    Result<Json> get_fact_cache(const std::string& host) const;
    /// Writes facts for `host` into the fact cache, e.g. before run() to seed a play.
    Status set_fact_cache(const std::string& host, const Json& facts) const;

  private:
    friend class EventStream;
    struct State;
    explicit Runner(std::unique_ptr<State> state);
    void execute();
    void record_error_status();
    std::unique_ptr<State> state_;
};

/// Creates a Runner and runs it to the end on this thread (ansible-runner's run()).
Result<std::shared_ptr<Runner>> run(const RunOptions& options, RunCallbacks callbacks = {});

/// Creates a Runner and starts it on a new thread (ansible-runner's run_async()).
Result<std::shared_ptr<Runner>> run_async(const RunOptions& options, RunCallbacks callbacks = {});

}  // namespace arunner
