#include "isolation/embedded_podman.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/container_engine.hpp"
#include "exec/job_processes.hpp"
#include "util/environment.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"
#include "util/temp_dir.hpp"

namespace arunner::isolation {
namespace fs = std::filesystem;
namespace {

using namespace std::chrono_literals;

/// How long a new service may take to answer on its socket (podman needs about a second).
constexpr auto kStartTimeout = 30s;
/// How long the service may take to stop after SIGTERM before it gets SIGKILL.
constexpr auto kStopGrace = 10s;
/// How often the keeper looks at the service while it runs.
constexpr int kKeeperPollMs = 100;

std::mutex notice_mutex;
EngineNotice notice_sink;  // guarded by notice_mutex

void notice(const std::string& line) {
    std::lock_guard lock(notice_mutex);
    if (notice_sink) {
        notice_sink(line);
    }
}

std::mutex registry_mutex;
std::weak_ptr<EmbeddedPodman> registry;  // guarded by registry_mutex

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) {
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return "was killed by signal " + std::to_string(WTERMSIG(status));
    }
    return "ended (wait status " + std::to_string(status) + ")";
}

/// The first child of the keeper: a child subreaper that runs the podman service as its own
/// child and reaps everything the service leaves behind (conmon double-forks away from it), so
/// none of that is reparented to arunner, which may itself be a subreaper whose orphans count as
/// a job's (exec/job_processes.hpp). It forwards SIGTERM/SIGINT/SIGHUP to the service and exits
/// with the service. Runs between fork and exec of a multi-threaded program: async-signal-safe
/// calls only, and it never returns.
[[noreturn]] void run_reaper(pid_t parent, const char* const* argv, const char* const* envp,
                             int null_fd, int log_fd, int exec_error_fd) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
        ::_exit(127);  // arunner died before the request took effect
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::prctl(PR_SET_NAME, "arunner-reaper");  // what ps shows instead of arunner's own name
    ::setsid();  // a terminal's Ctrl-C is for arunner, which stops the service in order
    sigset_t handled;
    ::sigemptyset(&handled);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
        ::sigaddset(&handled, sig);
    }
    ::sigprocmask(SIG_SETMASK, &handled, nullptr);
    const pid_t service = ::fork();
    if (service == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the reaper was killed outright
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::dup2(null_fd, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): execve's historical signature
        ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        int err = errno;
        (void)!::write(exec_error_fd, &err, sizeof err);
        ::_exit(127);
    }
    ::close(exec_error_fd);  // the service's copy tells the keeper whether exec worked
    if (service < 0) {
        ::_exit(127);
    }
    while (true) {
        siginfo_t info{};
        if (::sigwaitinfo(&handled, &info) < 0) {
            continue;
        }
        if (info.si_signo != SIGCHLD) {
            ::kill(service, SIGTERM);
            continue;
        }
        int status = 0;
        pid_t done = 0;
        while ((done = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (done == service) {
                ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            }
        }
    }
}

}  // namespace

void set_engine_notice(EngineNotice sink) {
    std::lock_guard lock(notice_mutex);
    notice_sink = std::move(sink);
}

Result<std::shared_ptr<EmbeddedPodman>> EmbeddedPodman::acquire(const fs::path& podman) {
    std::lock_guard lock(registry_mutex);
    if (auto service = registry.lock(); service && service->running()) {
        return service;
    }
    std::shared_ptr<EmbeddedPodman> service(new EmbeddedPodman());
    // On failure the destructor stops whatever was started and removes the directory.
    ARUNNER_TRY(service->start(podman));
    registry = service;
    notice(
        "arunner: no container engine socket is configured or answering; started `podman "
        "system service` on " +
        service->socket().string() + " (stopped when no job needs it)");
    return service;
}

pid_t EmbeddedPodman::pid() const {
    std::lock_guard lock(mutex_);
    return pid_;
}

bool EmbeddedPodman::running() const {
    std::lock_guard lock(mutex_);
    return pid_ > 0 && !exited_;
}

Status EmbeddedPodman::start(const fs::path& podman) {
    auto dir = util::make_temp_dir("arunner-podman-");
    if (!dir) {
        return Error{"cannot make a directory for the podman service socket: " +
                     dir.error().message};
    }
    dir_ = *dir;
    socket_ = dir_ / "podman.sock";
    log_ = dir_ / "service.log";
    if (socket_.string().size() >= sizeof(sockaddr_un::sun_path)) {
        return Error{"cannot start podman system service: its socket path " + socket_.string() +
                     " is longer than a unix socket allows; set TMPDIR to a shorter directory"};
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return util::errno_error("cannot create a pipe for the podman service", dir_, errno);
    }
    stop_read_.reset(fds[0]);
    stop_write_.reset(fds[1]);
    keeper_ = std::thread([this, podman] { keep(podman); });
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return spawned_; });
        if (!spawn_error_.empty()) {
            return Error{spawn_error_};
        }
    }
    return wait_until_answering();
}

void EmbeddedPodman::keep(const fs::path& podman) {
    auto spawn_failed = [&](std::string message) {
        std::lock_guard lock(mutex_);
        spawned_ = true;
        spawn_error_ = std::move(message);
        changed_.notify_all();
    };
    util::UniqueFd log(::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    util::UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    int exec_pipe[2];
    if (!log.valid() || !null.valid() || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
        spawn_failed("cannot start podman system service: " + std::string(std::strerror(errno)));
        return;
    }
    util::UniqueFd exec_read(exec_pipe[0]);
    util::UniqueFd exec_write(exec_pipe[1]);
    const std::string program = podman.string();
    const std::string address = "unix://" + socket_.string();
    std::vector<const char*> argv = {program.c_str(), "system",        "service",
                                     "--time=0",      address.c_str(), nullptr};
    // The service is local: variables that would make podman a remote client go.
    util::Environment environment = util::Environment::from_current_process();
    for (const char* name : {"CONTAINER_HOST", "CONTAINER_CONNECTION", "DOCKER_HOST"}) {
        environment.erase(name);
    }
    const std::vector<std::string> env_entries = environment.to_envp();
    std::vector<const char*> envp;
    envp.reserve(env_entries.size() + 1);
    for (const std::string& entry : env_entries) {
        envp.push_back(entry.c_str());
    }
    envp.push_back(nullptr);
    // fork, not posix_spawn: the service runs under a small reaper (run_reaper) that must ask
    // for PR_SET_PDEATHSIG before anything else. That signal follows this thread, which lives
    // exactly as long as the service should.
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        run_reaper(parent, argv.data(), envp.data(), null.get(), log.get(), exec_write.get());
    }
    if (pid < 0) {
        spawn_failed("cannot start podman system service: fork: " +
                     std::string(std::strerror(errno)));
        return;
    }
    exec_write.reset();
    int exec_errno = 0;
    ssize_t got = 0;
    do {
        got = ::read(exec_read.get(), &exec_errno, sizeof exec_errno);
    } while (got < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof exec_errno)) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        spawn_failed("cannot run " + program + ": " + std::strerror(exec_errno));
        return;
    }
    // The reaper is arunner's child but no job's: a job's kill must not count it as an orphan.
    exec::note_job_leader(pid, true);
    {
        std::lock_guard lock(mutex_);
        spawned_ = true;
        pid_ = pid;
        changed_.notify_all();
    }

    // Watch until stop() asks (a byte, or the pipe's end) or the service exits on its own.
    int status = 0;
    bool stop_asked = false;
    while (true) {
        pollfd stop_fd{stop_read_.get(), POLLIN, 0};
        int ready = ::poll(&stop_fd, 1, kKeeperPollMs);
        if (ready > 0) {
            stop_asked = true;
            break;
        }
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            break;
        }
    }
    if (stop_asked) {
        ::kill(pid, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
        while (::waitpid(pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &status, 0);
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
    }
    exec::note_job_leader(pid, false);
    {
        std::lock_guard lock(mutex_);
        exited_ = true;
        wait_status_ = status;
        changed_.notify_all();
    }
    if (!stop_asked) {
        // Exited on its own: stay until stop(), so the destructor has one path.
        pollfd stop_fd{stop_read_.get(), POLLIN, 0};
        while (::poll(&stop_fd, 1, -1) < 0 && errno == EINTR) {
        }
    }
}

Status EmbeddedPodman::wait_until_answering() {
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (true) {
        if (engine::socket_answers(socket_)) {
            return {};
        }
        {
            std::lock_guard lock(mutex_);
            if (exited_) {
                return Error{"podman system service " + describe_wait_status(wait_status_) +
                             " before it answered on " + socket_.string() + ": " + log_tail()};
            }
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return Error{"podman system service did not answer on " + socket_.string() +
                         " within " + std::to_string(kStartTimeout.count()) + " s: " + log_tail()};
        }
        std::this_thread::sleep_for(20ms);
    }
}

std::string EmbeddedPodman::log_tail() const {
    // Only the end is read: the service may have written any amount.
    constexpr off_t kTail = 2048;
    util::UniqueFd fd(::open(log_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    std::string tail;
    if (fd.valid()) {
        const off_t size = ::lseek(fd.get(), 0, SEEK_END);
        const off_t from = size > kTail ? size - kTail : 0;
        tail.resize(static_cast<size_t>(kTail));
        const ssize_t got = ::pread(fd.get(), tail.data(), tail.size(), from);
        tail.resize(got > 0 ? static_cast<size_t>(got) : 0);
    }
    if (util::trim(tail).empty()) {
        return "it printed nothing";
    }
    return "it printed: " + std::string(util::trim(tail));
}

void EmbeddedPodman::stop() {
    if (keeper_.joinable()) {
        const char byte = 1;
        (void)!::write(stop_write_.get(), &byte, 1);
        keeper_.join();
    }
}

EmbeddedPodman::~EmbeddedPodman() {
    stop();
    if (!dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

}  // namespace arunner::isolation
