#pragma once
// The run's ssh key (env/ssh_key or the ssh_key option) and the command wrapped in ssh-agent the
// way ansible-runner's wrap_args_with_ssh_agent does (docs/ssh-keys.md). Pure but for reading
// env/ssh_key; safe to call from any thread.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "arunner/run_options.hpp"

namespace arunner::config {

struct JobConfig;

/// The FIFO the key is written through, in ART.
inline constexpr const char* kSshKeyFifoName = "ssh_key_data";

/// A run that loads a key into its own ssh-agent.
struct SshKeySetup {
    std::string key;     ///< the private key text; never written to a regular file
    std::string source;  ///< "env/ssh_key" or "the ssh_key option", for messages
    /// The FIFO as the job's command names it: ART/ssh_key_data, or its path in the container.
    std::string fifo_path;
    /// Local runs: the private directory (0700, created by the run, removed after it) that
    /// holds the agent's socket, so the agent can be found and ended after the run. Empty in a
    /// container, whose removal ends the agent.
    std::filesystem::path agent_socket_dir;
    std::string agent_socket;  ///< agent_socket_dir/agent.sock, or empty
};

/// ansible-runner's wrap_args_with_ssh_agent:
/// `ssh-agent [-a SOCK] sh -c "trap 'rm -f P' EXIT && ssh-add P && rm -f P && <quoted args>"`,
/// with ` 2>/dev/null` after `ssh-add P` when `silence_ssh_add`. Byte for byte the same as
/// ansible-runner's whenever P needs no shell quoting; otherwise P is quoted in all three places
/// (ansible-runner quotes it in the ssh-add part only, so its `rm -f` would remove other paths).
std::vector<std::string> wrap_with_ssh_agent(const std::vector<std::string>& args,
                                             const std::string& key_path,
                                             const std::string& agent_socket = {},
                                             bool silence_ssh_add = false);

/// The key of the run: the ssh_key option when given (even empty, as ansible-runner's `is None`
/// test), else env/ssh_key. Empty or absent: the job is left as it is. Otherwise sets
/// job.ssh_key (with a final newline added when it has none: OpenSSH refuses the key without)
/// and wraps job.command in ssh-agent. Fails when env/ssh_key cannot be read.
Status apply_ssh_key(const RunOptions& options, JobConfig& job);

}  // namespace arunner::config
