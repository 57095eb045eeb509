#pragma once
// One child process started with posix_spawn in a session (and process group) of its own, its
// output on a pseudo-terminal (as pexpect gives ansible-runner's children) or on two pipes.
// The handle owns the process: destroying it while the child runs kills the whole group.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::exec {

/// How the child's standard streams are connected.
enum class Terminal {
    pty,    ///< stdin, stdout and stderr are one pseudo-terminal (24x80, like pexpect)
    pipes,  ///< stdout and stderr are separate pipes (or the given fds), stdin is /dev/null
            ///< (or the given fd)
};

/// What to start.
struct SpawnRequest {
    std::vector<std::string> argv;  ///< argv[0] is looked up in the PATH of `envp`
    std::vector<std::string> envp;  ///< the whole environment, "NAME=VALUE"
    std::filesystem::path cwd;      ///< must exist
    Terminal terminal = Terminal::pty;
    /// The run's frame secret (events::new_frame_secret()), or empty. The child reads it from
    /// a pipe at fd kFrameSecretFd, named by ARUNNER_FRAME_FD in its environment; nothing else
    /// the child starts inherits it unless the child passes it on (the plugin closes it).
    std::string frame_secret;
    /// With a frame secret: a directory put first on the child's PYTHONPATH (the callback
    /// plugin's start-up hook, which takes the secret before any of ansible's code runs and puts
    /// PYTHONPATH back; docs/frames.md). Added at spawn time like ARUNNER_FRAME_FD, so
    /// ART/command never shows it. Empty: none.
    std::string python_boot_dir;
    /// Pipes mode only: descriptors the caller owns that become the child's stdin, stdout and
    /// stderr (run_command's input_fd, output_fd, error_fd); -1: stdin is /dev/null, and the
    /// output is a pipe read through output_fd()/error_fd(). A stream given here is not
    /// captured: its fd of the handle is -1. The caller's descriptors stay open and its own.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
};

/// The fd on which a child finds its frame secret.
inline constexpr int kFrameSecretFd = 3;
/// The environment variable that names kFrameSecretFd to the callback plugin.
inline constexpr const char* kFrameFdVariable = "ARUNNER_FRAME_FD";
/// The variable the plugin takes a secret from where it has no fd (its own tests set it); never
/// passed to a child, so a job cannot choose its secret.
inline constexpr const char* kFrameSecretVariable = "ARUNNER_FRAME_SECRET";

/// Why a spawn failed.
enum class SpawnFailure {
    not_found,  ///< the executable does not exist or is not executable (ansible-runner's rc 127)
    other,      ///< anything else (no pty, fork failure, bad cwd)
};

/// A running (or finished, not yet reaped) child process.
class ChildProcess {
  public:
    /// Starts the child. On failure nothing is left running, the Error names what is wrong and
    /// `failure` (when given) is set to why.
    static Result<ChildProcess> spawn(const SpawnRequest& request, SpawnFailure* failure = nullptr);

    ChildProcess(ChildProcess&&) noexcept;
    ChildProcess& operator=(ChildProcess&&) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    /// Kills the process group and reaps the child if it was never waited for.
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    /// The pty master, or the stdout pipe; -1 when stdout went to the request's stdout_fd.
    int output_fd() const { return output_.get(); }
    /// The stderr pipe; -1 in pty mode (the pty merges stderr into output_fd) or when stderr
    /// went to the request's stderr_fd.
    int error_fd() const { return error_.get(); }
    /// Where to write the child's input: the pty master; -1 in pipes mode.
    int input_fd() const { return terminal_ == Terminal::pty ? output_.get() : -1; }
    /// Readable once the child has exited (a pidfd), or -1 if the kernel has none.
    int exit_fd() const { return pidfd_.get(); }

    /// Closes our end of the child's output streams (after draining them).
    void close_output() {
        output_.reset();
        error_.reset();
    }

    /// Sends `signal` to the child's whole process group.
    void signal_group(int signal) const;

    /// Reaps the child if it has exited: its wait status. Never blocks.
    std::optional<int> try_wait();
    /// Blocks until the child exits: its wait status.
    int wait();

  private:
    ChildProcess() = default;

    pid_t pid_ = -1;
    bool reaped_ = true;
    int wait_status_ = 0;
    Terminal terminal_ = Terminal::pty;
    util::UniqueFd output_;
    util::UniqueFd error_;
    util::UniqueFd pidfd_;
};

}  // namespace arunner::exec
