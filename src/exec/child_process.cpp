#include "exec/child_process.hpp"

#include "exec/job_processes.hpp"
#include "util/environment.hpp"
#include "util/files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace arunner::exec {
namespace {

bool names_variable(const std::string& entry, std::string_view name) {
    return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
           entry[name.size()] == '=';
}

std::string env_value(const std::vector<std::string>& envp, std::string_view name) {
    for (const auto& entry : envp) {
        if (names_variable(entry, name)) {
            return entry.substr(name.size() + 1);
        }
    }
    return {};
}

/// posix_spawn_file_actions_t and posix_spawnattr_t with their destroy calls on every path.
struct SpawnActions {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    SpawnActions() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attributes);
    }
    ~SpawnActions() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
    }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
};

Error other_error(const std::string& what, int err) {
    return Error{what + ": " + std::strerror(err)};
}

/// A pipe that holds `secret` and is closed for writing: the read end, close-on-exec and above
/// the standard fds (so no dup2 of the spawn overwrites it before it is moved).
Result<util::UniqueFd> secret_pipe(const std::string& secret) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return other_error("cannot create a pipe", errno);
    }
    util::UniqueFd read_end(fds[0]);
    util::UniqueFd write_end(fds[1]);
    // 32 bytes always fit in an empty pipe.
    if (::write(write_end.get(), secret.data(), secret.size()) !=
        static_cast<ssize_t>(secret.size())) {
        return other_error("cannot write to a pipe", errno);
    }
    util::UniqueFd high(::fcntl(read_end.get(), F_DUPFD_CLOEXEC, 10));
    if (!high.valid()) {
        return other_error("cannot duplicate a pipe", errno);
    }
    return high;
}

/// `fd` (the caller's) duplicated close-on-exec above the standard fds; `what` names it.
Result<util::UniqueFd> duplicate_high(int fd, const char* what) {
    util::UniqueFd high(::fcntl(fd, F_DUPFD_CLOEXEC, 10));
    if (!high.valid()) {
        return other_error(std::string("the ") + what + " fd " + std::to_string(fd) +
                               " cannot be given to the child",
                           errno);
    }
    return high;
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const SpawnRequest& request, SpawnFailure* failure) {
    SpawnFailure ignored = SpawnFailure::other;
    SpawnFailure& why = failure != nullptr ? *failure : ignored;
    why = SpawnFailure::other;
    auto not_found = [&](std::string message) {
        why = SpawnFailure::not_found;
        return Error{std::move(message)};
    };
    if (request.argv.empty()) {
        return not_found("no command to run");
    }
    std::string executable =
        util::find_executable(request.argv[0], env_value(request.envp, "PATH"));
    if (executable.empty()) {
        return not_found("The command was not found or was not executable: " + request.argv[0] +
                         ".");
    }
    struct stat cwd_stat {};
    if (::stat(request.cwd.c_str(), &cwd_stat) != 0 || !S_ISDIR(cwd_stat.st_mode)) {
        return Error{"working directory " + request.cwd.string() + " is not a directory"};
    }

    ChildProcess child;
    child.terminal_ = request.terminal;
    SpawnActions spawn;
    util::UniqueFd stdin_given;
    util::UniqueFd stdout_write;
    util::UniqueFd stderr_write;
    if (request.terminal == Terminal::pty &&
        (request.stdin_fd >= 0 || request.stdout_fd >= 0 || request.stderr_fd >= 0)) {
        return Error{"input, output and error fds are for a child on pipes, not on a terminal"};
    }

    if (request.terminal == Terminal::pty) {
        // The parent never opens the slave: once the child and its descendants close it, reads
        // on the master end with EIO, which is how we know all output has been read.
        util::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!master.valid()) {
            return other_error("cannot open a pseudo-terminal", errno);
        }
        char slave_name[128];
        if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0 ||
            ::ptsname_r(master.get(), slave_name, sizeof slave_name) != 0) {
            return other_error("cannot prepare the pseudo-terminal", errno);
        }
        struct winsize size {};
        size.ws_row = 24;  // pexpect's default dimensions: ansible sizes its banners from them
        size.ws_col = 80;
        ::ioctl(master.get(), TIOCSWINSZ, &size);
        // pexpect spawns ansible-runner's children with echo=False: nothing written to the
        // child's input comes back in its output (password answers, later).
        struct termios modes {};
        if (::tcgetattr(master.get(), &modes) == 0) {
            modes.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
            ::tcsetattr(master.get(), TCSANOW, &modes);
        }
        // After setsid() the child opens the slave without O_NOCTTY: it becomes the child's
        // controlling terminal, as with pexpect.
        posix_spawn_file_actions_addopen(&spawn.actions, 0, slave_name, O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&spawn.actions, 0, 1);
        posix_spawn_file_actions_adddup2(&spawn.actions, 0, 2);
        child.output_ = std::move(master);
    } else {
        // A caller's fd is duplicated above the standard fds first, so no dup2 of the spawn
        // overwrites another's source (input_fd 1 with output_fd 0, say).
        if (request.stdin_fd >= 0) {
            ARUNNER_ASSIGN_OR_RETURN(stdin_given, duplicate_high(request.stdin_fd, "input"));
            posix_spawn_file_actions_adddup2(&spawn.actions, stdin_given.get(), 0);
        } else {
            posix_spawn_file_actions_addopen(&spawn.actions, 0, "/dev/null", O_RDONLY, 0);
        }
        if (request.stdout_fd >= 0) {
            ARUNNER_ASSIGN_OR_RETURN(stdout_write, duplicate_high(request.stdout_fd, "output"));
        } else {
            int out[2];
            if (::pipe2(out, O_CLOEXEC) != 0) {
                return other_error("cannot create a pipe", errno);
            }
            child.output_.reset(out[0]);
            stdout_write.reset(out[1]);
        }
        if (request.stderr_fd >= 0) {
            ARUNNER_ASSIGN_OR_RETURN(stderr_write, duplicate_high(request.stderr_fd, "error"));
        } else {
            int err[2];
            if (::pipe2(err, O_CLOEXEC) != 0) {
                return other_error("cannot create a pipe", errno);
            }
            child.error_.reset(err[0]);
            stderr_write.reset(err[1]);
        }
        posix_spawn_file_actions_adddup2(&spawn.actions, stdout_write.get(), 1);
        posix_spawn_file_actions_adddup2(&spawn.actions, stderr_write.get(), 2);
    }
    util::UniqueFd secret_read;
    std::vector<std::string> envp_strings;
    const std::vector<std::string>* env = &request.envp;
    if (!request.frame_secret.empty()) {
        ARUNNER_ASSIGN_OR_RETURN(secret_read, secret_pipe(request.frame_secret));
        // After the standard streams are in place; only this child gets the pipe (it is
        // close-on-exec here, so children spawned at the same time do not).
        posix_spawn_file_actions_adddup2(&spawn.actions, secret_read.get(), kFrameSecretFd);
        posix_spawn_file_actions_addclosefrom_np(&spawn.actions, kFrameSecretFd + 1);
        bool python_path_set = false;
        for (const auto& entry : request.envp) {
            if (names_variable(entry, kFrameFdVariable) ||
                names_variable(entry, kFrameSecretVariable)) {
                continue;
            }
            if (!request.python_boot_dir.empty() && names_variable(entry, "PYTHONPATH")) {
                envp_strings.push_back("PYTHONPATH=" +
                                       util::python_path_with(request.python_boot_dir,
                                                              std::string_view(entry).substr(11)));
                python_path_set = true;
                continue;
            }
            envp_strings.push_back(entry);
        }
        if (!request.python_boot_dir.empty() && !python_path_set) {
            envp_strings.push_back("PYTHONPATH=" + request.python_boot_dir);
        }
        envp_strings.push_back(std::string(kFrameFdVariable) + "=" +
                               std::to_string(kFrameSecretFd));
        env = &envp_strings;
    } else {
        posix_spawn_file_actions_addclosefrom_np(&spawn.actions, 3);
    }
    posix_spawn_file_actions_addchdir_np(&spawn.actions, request.cwd.c_str());

    // A new session (so a new process group we can kill as a whole), default signal dispositions
    // and an empty signal mask, whatever the parent has installed.
    sigset_t all_signals;
    sigset_t no_signals;
    sigfillset(&all_signals);
    sigemptyset(&no_signals);
    posix_spawnattr_setsigdefault(&spawn.attributes, &all_signals);
    posix_spawnattr_setsigmask(&spawn.attributes, &no_signals);
    posix_spawnattr_setflags(&spawn.attributes,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> argv;
    for (const auto& arg : request.argv) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& entry : *env) {
        envp.push_back(const_cast<char*>(entry.c_str()));
    }
    envp.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, executable.c_str(), &spawn.actions, &spawn.attributes, argv.data(),
                           envp.data());
    if (rc != 0) {
        if (rc == ENOENT || rc == EACCES || rc == ENOEXEC || rc == ENOTDIR) {
            return not_found("The command was not found or was not executable: " + request.argv[0] +
                             ".");
        }
        return other_error("cannot start " + request.argv[0], rc);
    }
    child.pid_ = pid;
    child.reaped_ = false;
    note_job_leader(pid, true);  // never taken for another job's orphan (job_processes.hpp)
    child.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (child.pidfd_.valid()) {
        ::fcntl(child.pidfd_.get(), F_SETFD, FD_CLOEXEC);
    }
    for (int fd : {child.output_.get(), child.error_.get()}) {
        if (fd >= 0) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
    }
    return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(std::exchange(other.reaped_, true)),
      wait_status_(other.wait_status_),
      terminal_(other.terminal_),
      output_(std::move(other.output_)),
      error_(std::move(other.error_)),
      pidfd_(std::move(other.pidfd_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        if (!reaped_ && pid_ > 0) {
            signal_group(SIGKILL);
            wait();
        }
        pid_ = std::exchange(other.pid_, -1);
        reaped_ = std::exchange(other.reaped_, true);
        wait_status_ = other.wait_status_;
        terminal_ = other.terminal_;
        output_ = std::move(other.output_);
        error_ = std::move(other.error_);
        pidfd_ = std::move(other.pidfd_);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    if (!reaped_ && pid_ > 0) {
        signal_group(SIGKILL);
        wait();
    }
}

void ChildProcess::signal_group(int signal) const {
    if (pid_ > 0) {
        // The child is a session leader, so its process group id is its pid. Errors (the group
        // is already gone) are ignored, as ansible-runner does.
        ::killpg(pid_, signal);
    }
}

std::optional<int> ChildProcess::try_wait() {
    if (reaped_) {
        return wait_status_;
    }
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        reaped_ = true;
        wait_status_ = status;
        note_job_leader(pid_, false);
        return status;
    }
    return std::nullopt;
}

int ChildProcess::wait() {
    while (!reaped_) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, 0);
        if (r == pid_) {
            reaped_ = true;
            wait_status_ = status;
            note_job_leader(pid_, false);
        } else if (r < 0 && errno != EINTR) {
            reaped_ = true;  // not our child any more (ECHILD): nothing left to reap
        }
    }
    return wait_status_;
}

}  // namespace arunner::exec
