#pragma once
// A run's ssh key from start to end (docs/ssh-keys.md): the FIFO in ART the key is written
// through, the agent's private socket directory (local runs), and after the run the FIFO
// removed, the agent ended and, when ssh-add refused the key, a line that says so. It sits
// between the supervisor and the run's JobOutput, watching the start of the output for
// ssh-add's refusal.

#include <memory>
#include <optional>
#include <string>

#include "arunner/error.hpp"
#include "config/job_config.hpp"
#include "exec/secret_fifo.hpp"
#include "exec/ssh_agent_socket.hpp"
#include "exec/supervisor.hpp"

namespace arunner::runner {

class JobOutput;

class SshKeySession : public exec::OutputSink {
  public:
    /// For a job with a key (job.ssh_key): creates the FIFO in ART (`art_fd`) and starts its
    /// writer, and creates the agent's socket directory. Null when the job has no key.
    /// Destroying the session does what finish() does but for the message.
    static Result<std::unique_ptr<SshKeySession>> start(const config::JobConfig& job, int art_fd,
                                                        JobOutput& output);

    void on_output(OutputStream stream, std::string_view bytes) override;
    std::optional<int> exit_status() const override;

    /// After the job has ended: stops the FIFO's writer and removes the FIFO, ends the agent
    /// and removes its socket directory; when the job failed and ssh-add had refused the key,
    /// adds a line saying so to the output.
    void finish(std::optional<int> rc);

  private:
    SshKeySession(const config::SshKeySetup& setup, JobOutput& output)
        : setup_(setup), output_(output) {}

    const config::SshKeySetup& setup_;
    JobOutput& output_;
    std::unique_ptr<exec::SecretFifo> fifo_;
    std::optional<exec::SshAgentSocket> socket_;
    /// The start of the output, where ssh-add's messages come (bounded).
    std::string head_;
};

}  // namespace arunner::runner
