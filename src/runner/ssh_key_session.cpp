#include "runner/ssh_key_session.hpp"

#include "runner/job_output.hpp"

namespace arunner::runner {
namespace {

// ssh-add runs before anything else of the job: its messages are in the first bytes.
constexpr size_t kHeadLimit = size_t{64} * 1024;

/// What ssh-add prints when it does not load the key at `path` (OpenSSH 9: a key it cannot
/// parse, one whose mode is too open, one the agent does not take).
bool refused_by_ssh_add(const std::string& output, const std::string& path) {
    return output.find("Error loading key \"" + path + "\"") != std::string::npos ||
           output.find("for '" + path + "' are too open") != std::string::npos ||
           output.find("Could not add identity \"" + path + "\"") != std::string::npos;
}

}  // namespace

Result<std::unique_ptr<SshKeySession>> SshKeySession::start(const config::JobConfig& job,
                                                            int art_fd, JobOutput& output) {
    if (!job.ssh_key) {
        return std::unique_ptr<SshKeySession>();
    }
    const config::SshKeySetup& setup = *job.ssh_key;
    std::unique_ptr<SshKeySession> session(new SshKeySession(setup, output));
    if (!setup.agent_socket_dir.empty()) {
        ARUNNER_ASSIGN_OR_RETURN(
            auto socket,
            exec::SshAgentSocket::create(setup.agent_socket_dir,
                                         std::filesystem::path(setup.agent_socket).filename()));
        session->socket_.emplace(std::move(socket));
    }
    ARUNNER_ASSIGN_OR_RETURN(session->fifo_,
                             exec::SecretFifo::create(art_fd, config::kSshKeyFifoName, setup.key));
    return session;
}

void SshKeySession::on_output(OutputStream stream, std::string_view bytes) {
    if (head_.size() < kHeadLimit) {
        head_.append(bytes.substr(0, kHeadLimit - head_.size()));
    }
    output_.on_output(stream, bytes);
}

std::optional<int> SshKeySession::exit_status() const {
    return output_.exit_status();
}

void SshKeySession::finish(std::optional<int> rc) {
    if (fifo_) {
        fifo_->stop();
    }
    if (socket_) {
        socket_->end();
    }
    if (rc && *rc != 0 && refused_by_ssh_add(head_, setup_.fifo_path)) {
        output_.inject("arunner: the ssh key in " + setup_.source +
                       " was refused by ssh-add (its message is above); nothing else ran\n");
    }
    head_.clear();
}

}  // namespace arunner::runner
