#include "config/ssh_agent.hpp"

#include <cstdlib>

#include "config/env_file.hpp"
#include "config/job_config.hpp"
#include "util/shlex.hpp"
#include "util/temp_dir.hpp"
#include "util/uuid.hpp"

namespace arunner::config {
namespace {

namespace fs = std::filesystem;

/// Python's args2cmdline: each word shell-quoted, joined by spaces.
std::string join_quoted(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) {
        if (!out.empty()) {
            out += ' ';
        }
        out += util::shlex_quote(word);
    }
    return out;
}

/// Where the agents' private socket directories go: util::temp_dir() when it is short enough
/// for a unix socket path (108 bytes with the name below), else /tmp.
Result<fs::path> socket_base_dir() {
    ARUNNER_ASSIGN_OR_RETURN(fs::path tmp, util::temp_dir());
    if (tmp.string().size() < 48) {
        return tmp;
    }
    return fs::path("/tmp");
}

}  // namespace

std::vector<std::string> wrap_with_ssh_agent(const std::vector<std::string>& args,
                                             const std::string& key_path,
                                             const std::string& agent_socket,
                                             bool silence_ssh_add) {
    const std::string path = util::shlex_quote(key_path);
    std::string ssh_add = join_quoted({"ssh-add", key_path});
    if (silence_ssh_add) {
        ssh_add += " 2>/dev/null";
    }
    const std::string cleanup = "rm -f " + path;
    std::string script = join_quoted({"trap", cleanup, "EXIT"});
    script += " && ";
    script += ssh_add;
    script += " && ";
    script += cleanup;
    script += " && ";
    script += join_quoted(args);
    std::vector<std::string> out = {"ssh-agent"};
    if (!agent_socket.empty()) {
        out.emplace_back("-a");
        out.push_back(agent_socket);
    }
    out.emplace_back("sh");
    out.emplace_back("-c");
    out.push_back(std::move(script));
    return out;
}

Status apply_ssh_key(const RunOptions& options, JobConfig& job) {
    SshKeySetup setup;
    if (options.ssh_key) {
        setup.key = *options.ssh_key;
        setup.source = "the ssh_key option";
    } else {
        ARUNNER_ASSIGN_OR_RETURN(auto file, load_text_file(job.private_data_dir, "env/ssh_key"));
        if (!file) {
            return {};
        }
        setup.key = std::move(*file);
        setup.source = "env/ssh_key";
    }
    if (setup.key.empty()) {
        return {};
    }
    // OpenSSH 9 refuses a key whose last line has no newline ("error in libcrypto"); a value
    // from YAML, JSON or a form often lost it.
    if (setup.key.back() != '\n') {
        setup.key += '\n';
    }
    if (job.container) {
        // The agent runs inside the container and dies with it.
        setup.fifo_path =
            (fs::path(kContainerPrivateDataDir) / "artifacts" / job.ident / kSshKeyFifoName)
                .string();
    } else {
        setup.fifo_path = (job.artifact_dir / kSshKeyFifoName).string();
        ARUNNER_ASSIGN_OR_RETURN(const fs::path base, socket_base_dir());
        setup.agent_socket_dir = base / ("arunner-ssh-" + util::uuid_hex(util::uuid4()));
        setup.agent_socket = (setup.agent_socket_dir / "agent.sock").string();
    }
    job.command = wrap_with_ssh_agent(job.command, setup.fifo_path, setup.agent_socket);
    job.ssh_key = std::move(setup);
    return {};
}

}  // namespace arunner::config
