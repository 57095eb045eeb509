#include "cli/daemon_commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <variant>

#include "arunner/program.hpp"
#include "cli/pid_lock.hpp"
#include "cli/run_command.hpp"
#include "cli/run_flags.hpp"
#include "util/files.hpp"
#include "util/text.hpp"
#include "util/unique_fd.hpp"

namespace arunner::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// How long stop waits for the daemon to cancel its job (a container job stops and removes its
// container) before it kills the daemon and every process of the job.
constexpr auto kCancelWait = 60s;
// How long stop waits for the killed processes (one stuck in the kernel is given up on).
constexpr auto kKillWait = 10s;
// How long stop waits for a daemon that holds the lock but has not written its pid yet (it does
// so right after it forks).
constexpr auto kPidWait = 10s;

fs::path daemon_log(const fs::path& pdd) {
    return pdd / "daemon.log";
}

/// PDD/daemon.log opened for writing with `extra_flags`, created (0600) when missing. A link, a
/// FIFO or anything else but a regular file there is an error that names it: opened without
/// blocking and without following a link, so a job that planted one cannot hang stop or is-alive.
Result<util::UniqueFd> open_daemon_log(const fs::path& log, int extra_flags) {
    util::UniqueFd fd(::open(
        log.c_str(),
        O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | extra_flags, 0600));
    if (!fd.valid() && errno == ENXIO) {
        return Error{log.string() + " is not a regular file (a FIFO)"};
    }
    if (!fd.valid()) {
        return util::errno_error("cannot open", log, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Error{log.string() + " is not a regular file"};
    }
    // Back to blocking writes: the daemon's stderr.
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/// PDD (0700) and an empty PDD/daemon.log (0600), each made when missing, as ansible-runner's
/// start, stop and is-alive do.
Status prepare_private_data_dir(const fs::path& pdd) {
    ARUNNER_TRY(util::make_dirs(pdd, 0700));
    fs::path log = daemon_log(pdd);
    ARUNNER_ASSIGN_OR_RETURN(auto fd, open_daemon_log(log, 0));
    return {};
}

int failed(const char* command, const std::string& message) {
    std::fprintf(stderr, "arunner %s: %s\n", command, util::printable(message).c_str());
    return 1;
}

/// The daemon's stdio: stdin and stdout /dev/null, stderr daemon.log (emptied: it holds this
/// daemon's messages); its cwd `/`.
Status detach_stdio(const fs::path& pdd) {
    if (::chdir("/") != 0) {
        return util::errno_error("cannot change to", "/", errno);
    }
    util::UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null_fd.valid()) {
        return util::errno_error("cannot open", "/dev/null", errno);
    }
    fs::path log = daemon_log(pdd);
    ARUNNER_ASSIGN_OR_RETURN(auto log_fd, open_daemon_log(log, O_APPEND));
    // Emptied once it is known to be a regular file: it holds this daemon's messages.
    if (::ftruncate(log_fd.get(), 0) != 0) {
        return util::errno_error("cannot empty", log, errno);
    }
    std::fflush(nullptr);
    if (::dup2(null_fd.get(), STDIN_FILENO) < 0 || ::dup2(null_fd.get(), STDOUT_FILENO) < 0 ||
        ::dup2(log_fd.get(), STDERR_FILENO) < 0) {
        return util::errno_error("cannot redirect the stdio to", log, errno);
    }
    return {};
}

/// The daemon, from its fork to its end: says it is ready on `ready_fd` once its pid is in the
/// locked pid file, runs the job as `run` does, then removes the pid file. Its exit code.
int run_daemon(PidLock lock, Runner& runner, const fs::path& pdd, util::UniqueFd ready_fd) {
    if (auto detached = detach_stdio(pdd); !detached) {
        lock.remove();
        return failed("start", detached.error().message);
    }
    // As `arunner run`: the job's double-forked descendants are reparented to the daemon, so
    // stop reaches them (the setting is not inherited across fork).
    become_subreaper();
    // From here a SIGTERM (stop) cancels the job, even one that arrives before the job starts:
    // the runner's own handler sees it.
    TerminationSignalGuard signals;
    if (auto written = lock.write_pid(::getpid()); !written) {
        lock.remove();
        return failed("start", written.error().message);
    }
    char ready = 1;
    [[maybe_unused]] ssize_t n = ::write(ready_fd.get(), &ready, 1);
    ready_fd.reset();
    int exit_code = run_prepared(runner);
    lock.remove();
    return exit_code;
}

/// Detaches the prepared job into a daemon (double fork, setsid). In the launching process:
/// returns 0 once the daemon has written and locked its pid file, 1 if it died before. In the
/// daemon: returns its exit code when the job is over.
int daemonize(PidLock lock, Runner& runner, const fs::path& pdd) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        lock.remove();
        return failed("start", util::errno_error("cannot create a pipe for", pdd, errno).message);
    }
    util::UniqueFd ready_read(fds[0]);
    util::UniqueFd ready_write(fds[1]);
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) {
        lock.remove();
        return failed("start", util::errno_error("cannot fork a daemon for", pdd, errno).message);
    }
    if (child == 0) {
        ready_read.reset();
        if (::setsid() < 0) {
            ::_exit(1);
        }
        pid_t daemon = ::fork();
        if (daemon != 0) {
            ::_exit(daemon < 0 ? 1 : 0);
        }
        return run_daemon(std::move(lock), runner, pdd, std::move(ready_write));
    }
    ready_write.reset();
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    char ready = 0;
    ssize_t n = 0;
    while ((n = ::read(ready_read.get(), &ready, 1)) < 0 && errno == EINTR) {
    }
    if (n == 1) {
        // The lock stays with the daemon when this process closes its descriptor, and so do the
        // files made for the run (the daemon's Runner removes them after the job).
        runner.hand_over_run_files();
        return 0;
    }
    lock.remove();
    return failed("start",
                  "the daemon ended before it started the job; see " + daemon_log(pdd).string());
}

/// Waits until `pidfd`'s process has exited; false after `limit`.
bool wait_exit(int pidfd, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{pidfd, POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
        if (n > 0) {
            return true;
        }
        if (n == 0 || errno != EINTR) {
            return false;
        }
    }
}

/// The state of the pid file, waiting (a little) for the pid of a daemon that holds the lock
/// but has not written it yet.
Result<PidFileState> inspect_with_pid(const fs::path& path) {
    const auto deadline = std::chrono::steady_clock::now() + kPidWait;
    for (;;) {
        ARUNNER_ASSIGN_OR_RETURN(auto state, inspect_pid_file(path));
        if (!state.locked || state.pid || std::chrono::steady_clock::now() > deadline) {
            return state;
        }
        std::this_thread::sleep_for(20ms);
    }
}

/// Kills the daemon `pid` and every process of its job: its descendants at any depth (the job's
/// child sits in a session of its own), through exec/job_processes.
bool kill_daemon_and_job(pid_t pid, int pidfd) {
    // Stopped first, so it can neither exit (and free its pid) nor fork while its tree is read.
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGSTOP, nullptr, 0);
    return kill_process_tree(pid, kKillWait);
}

}  // namespace

int start_command(const std::vector<std::string>& args) {
    auto parsed = parse_run_arguments(args, "arunner start", true);
    if (auto* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    const ParsedRun& run = std::get<ParsedRun>(parsed);
    const fs::path pdd = run.options.private_data_dir;  // absolute
    if (auto made = prepare_private_data_dir(pdd); !made) {
        return failed("start", made.error().message);
    }
    auto lock = PidLock::acquire(pdd / "pid");
    if (!lock) {
        return failed("start", lock.error().message);
    }
    // Set up before detaching: its errors are the launching process's, with run's messages.
    auto prepared = prepare_run(run);
    if (auto* exit_code = std::get_if<int>(&prepared)) {
        lock->remove();
        return *exit_code;
    }
    return daemonize(std::move(*lock), *std::get<PreparedRun>(prepared).runner, pdd);
}

int stop_command(const std::vector<std::string>& args) {
    auto parsed = parse_control_arguments(args, "arunner stop");
    if (auto* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    const ParsedRun& run = std::get<ParsedRun>(parsed);
    const fs::path pdd = run.options.private_data_dir;
    if (auto made = prepare_private_data_dir(pdd); !made) {
        return failed("stop", made.error().message);
    }
    DebugLog log(run.debug, run.logfile);
    log.line("starting debug logging");
    const fs::path pid_path = pdd / "pid";
    auto state = inspect_with_pid(pid_path);
    if (!state) {
        return failed("stop", state.error().message);
    }
    if (!state->exists) {
        return failed("stop", "no daemon to stop: " + pid_path.string() + " does not exist");
    }
    if (!state->locked) {
        // Its pid may have been reused by any process: it is never signalled.
        return failed("stop", "no daemon to stop: " + pid_path.string() + " is stale (" +
                                  (state->pid ? "pid " + std::to_string(*state->pid) +
                                                    " left alone; no arunner daemon holds it"
                                              : "no daemon holds it") +
                                  ")");
    }
    if (!state->pid) {
        return failed("stop", pid_path.string() + " holds no pid");
    }
    const pid_t pid = *state->pid;
    util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    // Looked at again with the pidfd open: a daemon that still holds the lock is alive, so the
    // pidfd is its own and not that of a process that reused its pid.
    auto again = inspect_pid_file(pid_path);
    if (!again || !again->locked || again->pid != pid) {
        log.line("stop: the daemon (pid " + std::to_string(pid) + ") ended by itself");
        return 0;
    }
    if (!pidfd.valid()) {
        return failed("stop", pid_path.string() + " is locked but names pid " +
                                  std::to_string(pid) + ", which does not run");
    }
    log.line("stop: sending SIGTERM to the daemon (pid " + std::to_string(pid) + ")");
    // The daemon cancels its job as `arunner run` does on SIGTERM: every process of the job
    // killed, its container removed, status canceled, rc 254.
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0) != 0 && errno != ESRCH) {
        return failed("stop", util::errno_error("cannot signal the daemon of", pdd, errno).message);
    }
    if (!wait_exit(pidfd.get(), kCancelWait)) {
        std::fprintf(stderr,
                     "arunner stop: the daemon (pid %d) did not end %lld s after SIGTERM: "
                     "killing it and every process of its job\n",
                     pid, static_cast<long long>(kCancelWait.count()));
        if (!kill_daemon_and_job(pid, pidfd.get())) {
            return failed("stop", "the daemon (pid " + std::to_string(pid) +
                                      ") or a process of its job did not die");
        }
    }
    // The daemon removes its pid file as it ends; one that was killed leaves it.
    if (auto left = PidLock::take_over(pid_path, pid)) {
        left->remove();
    }
    return 0;
}

int is_alive_command(const std::vector<std::string>& args) {
    auto parsed = parse_control_arguments(args, "arunner is-alive");
    if (auto* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    const ParsedRun& run = std::get<ParsedRun>(parsed);
    const fs::path pdd = run.options.private_data_dir;
    if (auto made = prepare_private_data_dir(pdd); !made) {
        return failed("is-alive", made.error().message);
    }
    DebugLog log(run.debug, run.logfile);
    log.line("starting debug logging");
    auto state = inspect_pid_file(pdd / "pid");
    if (!state) {
        return failed("is-alive", state.error().message);
    }
    return state->locked ? 0 : 1;
}

}  // namespace arunner::cli
