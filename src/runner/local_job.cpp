#include "runner/local_job.hpp"

#include <array>
#include <charconv>

#include "artifacts/artifact_dir.hpp"
#include "exec/child_process.hpp"
#include "exec/prompt_responder.hpp"
#include "exec/secret_fifo.hpp"
#include "isolation/container_job.hpp"
#include "isolation/container_spec.hpp"
#include "runner/abandoned_jobs.hpp"
#include "runner/job_output.hpp"
#include "runner/ssh_key_session.hpp"
#include "util/files.hpp"

namespace arunner::runner {
namespace {

/// The end of every run: output closed, the final status, ART/status and ART/rc.
Result<JobOutcome> finish_job(const JobHooks& hooks, artifacts::ArtifactDir& dir, JobOutput& sink,
                              JobOutcome& outcome,
                              const std::function<void(JobStatus)>& set_status) {
    sink.finish();
    dir.close_output_files();

    if (hooks.failed && hooks.failed()) {
        outcome.rc = 1;
        set_status(JobStatus::error);
    } else if (outcome.canceled) {
        set_status(JobStatus::canceled);
    } else if (outcome.rc == 0 && !outcome.timed_out) {
        set_status(JobStatus::successful);
    } else if (outcome.timed_out) {
        set_status(JobStatus::timeout);
    } else {
        set_status(JobStatus::failed);
    }
    ARUNNER_TRY(dir.write_status(outcome.status));
    ARUNNER_TRY(dir.write_rc(outcome.rc));
    if (sink.write_error()) {
        return *sink.write_error();
    }
    return outcome;
}

Result<exec::PromptResponder> compile_prompts(const config::JobConfig& job) {
    std::vector<exec::PromptAnswer> prompts;
    prompts.reserve(job.passwords.size());
    for (const auto& [pattern, answer] : job.passwords) {
        prompts.push_back(exec::PromptAnswer{pattern, answer});
    }
    return exec::PromptResponder::compile(std::move(prompts), "passwords (env/passwords)");
}

/// Why a job ended by idle_timeout while its output ended with an unanswered prompt.
std::string waiting_prompt_message(const config::JobConfig& job, const std::string& prompt) {
    std::array<char, 32> seconds{};
    auto end = std::to_chars(seconds.data(), seconds.data() + seconds.size(), *job.idle_timeout);
    std::string text = "\narunner: idle_timeout (" + std::string(seconds.data(), end.ptr) +
                       " s) ended the job while a prompt waited for input: \"" + prompt + "\"; ";
    text += job.passwords.empty() ? "there is no env/passwords to answer it"
                                  : "no pattern of env/passwords matched it";
    return text + "\n";
}

}  // namespace

isolation::PullContext pull_context(const config::JobConfig& job, const JobHooks& hooks) {
    isolation::PullContext context;
    context.console_fd = job.suppress_ansible_output ? -1 : hooks.console_fd;
    context.cancel_fds = hooks.cancel_fds;
    context.should_cancel = hooks.should_cancel;
    return context;
}

Result<JobOutcome> run_job(const config::JobConfig& job, const JobHooks& hooks) {
    JobOutcome outcome;
    outcome.artifact_dir = job.artifact_dir;
    std::function<void(JobStatus)> set_status = [&](JobStatus status) {
        outcome.status = status;
        if (hooks.on_status) {
            hooks.on_status(status);
        }
    };

    // Prompts are answered on a terminal only (ansible-runner: pexpect mode only). A pattern that
    // does not compile fails the job before anything is written.
    std::optional<exec::PromptResponder> prompts;
    if (job.runner_mode == RunnerMode::pexpect && !job.passwords.empty()) {
        ARUNNER_ASSIGN_OR_RETURN(prompts, compile_prompts(job));
    }

    set_status(JobStatus::starting);
    // A container job checks its engine and image before anything is written.
    std::optional<isolation::PreparedContainer> container;
    if (job.container) {
        ARUNNER_ASSIGN_OR_RETURN(container,
                                 isolation::prepare_container(job, pull_context(job, hooks)));
    }
    ARUNNER_ASSIGN_OR_RETURN(auto dir, artifacts::ArtifactDir::create(job.artifact_dir));
    // A reused ART may hold a fact_cache that an earlier job linked out of it.
    ARUNNER_TRY(dir.repair_fact_cache(job.fact_cache_dir));
    ARUNNER_TRY(dir.write_command(job.command, job.cwd.string(), job.env));
    ARUNNER_TRY(artifacts::rotate_artifacts(job.artifact_dir.parent_path(), job.rotate_artifacts,
                                            job.artifact_dir.filename().string()));
    if (!job.suppress_output_file) {
        ARUNNER_TRY(dir.open_output_files());
    }
    int console_fd = job.suppress_ansible_output ? -1 : hooks.console_fd;
    // One secret per run: only frames that carry it are events (docs/frames.md).
    const std::string frame_secret = events::new_frame_secret();
    events::DecoderOptions decoder_options;
    decoder_options.runner_ident = job.ident;
    decoder_options.json_mode = job.json_mode;
    decoder_options.frame_secret = frame_secret;
    JobOutput sink(dir, console_fd, decoder_options, hooks.event_handler, hooks.on_event_written);
    // env/ssh_key: its FIFO and agent socket, ended on every path (docs/ssh-keys.md).
    ARUNNER_ASSIGN_OR_RETURN(auto ssh_key, SshKeySession::start(job, dir.fd(), sink));
    exec::OutputSink& output = ssh_key ? static_cast<exec::OutputSink&>(*ssh_key) : sink;
    set_status(JobStatus::running);

    exec::SupervisionLimits limits;
    if (job.job_timeout) {
        limits.job_timeout = exec::SupervisionLimits::Seconds(*job.job_timeout);
    }
    if (job.idle_timeout) {
        limits.idle_timeout = exec::SupervisionLimits::Seconds(*job.idle_timeout);
    }
    limits.poll_interval = exec::SupervisionLimits::Seconds(job.pexpect_timeout);
    limits.prompts = prompts ? &*prompts : nullptr;
    auto conclude = [&](const exec::Supervision& result) {
        outcome.canceled = result.canceled;
        outcome.timed_out = result.timed_out;
        outcome.rc = (result.canceled || result.timed_out)
                         ? std::optional<int>(kRcCanceledOrTimeout)
                         : result.exit_code();
        if (!result.waiting_prompt.empty()) {
            sink.inject(waiting_prompt_message(job, result.waiting_prompt));
        }
        if (ssh_key) {
            ssh_key->finish(outcome.rc);
        }
    };

    if (container) {
        ARUNNER_TRY(dir.write_env_list(job.env));
        // The secret goes to the container's init through a FIFO in ART (docs/frames.md),
        // removed when the job ends.
        ARUNNER_ASSIGN_OR_RETURN(
            auto frame_fifo,
            exec::SecretFifo::create(dir.fd(), isolation::kFrameFifoName, frame_secret));
        isolation::add_frame_fifo(container->spec, job.ident);
        auto result = isolation::run_container(*container, job.artifact_dir, output, limits,
                                               hooks.cancel_fds, hooks.should_cancel);
        frame_fifo->stop();
        if (!result) {
            sink.finish();
            dir.close_output_files();
            return result.error();
        }
        conclude(*result);
        return finish_job(hooks, dir, sink, outcome, set_status);
    }

    // What a killed arunner left running is ended first; this job gets a record of its own, and
    // every process of it the record's marker (docs/abandoned-jobs.md). A registry that cannot
    // be used costs only that: the job runs, unrecorded.
    const std::filesystem::path registry = job_registry_dir();
    (void)end_abandoned_jobs(registry);
    auto record = JobRecord::create(registry, job.artifact_dir, job.ident);

    exec::SpawnRequest request;
    request.argv = job.command;
    request.envp = job.env.to_envp();
    if (record) {
        request.envp.push_back(record->environment_entry());
    }
    request.cwd = job.cwd;
    request.frame_secret = frame_secret;
    request.python_boot_dir = job.python_boot_dir;
    request.terminal =
        job.runner_mode == RunnerMode::pexpect ? exec::Terminal::pty : exec::Terminal::pipes;
    request.stdin_fd = job.input_fd;
    request.stdout_fd = job.output_fd;
    request.stderr_fd = job.error_fd;
    exec::SpawnFailure failure = exec::SpawnFailure::other;
    auto child = exec::ChildProcess::spawn(request, &failure);
    if (!child && failure != exec::SpawnFailure::not_found) {
        dir.close_output_files();
        return child.error();
    }
    if (!child) {
        // ansible-runner writes pexpect's message into the output and reports rc 127.
        sink.inject(child.error().message + "\n");
        outcome.rc = kRcNotFound;
    } else {
        conclude(exec::supervise(*child, output, limits, hooks.cancel_fds, hooks.should_cancel));
    }
    return finish_job(hooks, dir, sink, outcome, set_status);
}

}  // namespace arunner::runner
