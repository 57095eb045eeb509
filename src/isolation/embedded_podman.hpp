#pragma once
// The podman service arunner starts for itself when no engine socket is configured or answering
// and podman is installed (docs/embedded-engine.md): `podman system service --time=0` on a
// socket in a private 0700 directory, shared by every job of this process that needs it, and
// stopped when the last of them lets go. It is tied to arunner's life: the kernel sends it
// SIGTERM if arunner dies (PR_SET_PDEATHSIG), so a killed controller leaves no service behind.

#include <sys/types.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::isolation {

/// Where one-line notices about the embedded service go ("started podman system service on …").
/// The library prints nothing by itself; the CLI sends these to stderr. Empty: dropped.
using EngineNotice = std::function<void(const std::string& line)>;
void set_engine_notice(EngineNotice notice);

class EmbeddedPodman {
  public:
    /// The service of this process: the running one if there is one, else a new one started with
    /// `podman` (an executable path) and checked to answer. Every holder keeps it running.
    static Result<std::shared_ptr<EmbeddedPodman>> acquire(const std::filesystem::path& podman);

    /// Stops the service (SIGTERM, SIGKILL after a grace period), waits for it and removes its
    /// directory.
    ~EmbeddedPodman();
    EmbeddedPodman(const EmbeddedPodman&) = delete;
    EmbeddedPodman& operator=(const EmbeddedPodman&) = delete;

    const std::filesystem::path& socket() const { return socket_; }
    /// The service's process id (0 before it was spawned).
    pid_t pid() const;
    /// False once the service process has exited on its own.
    bool running() const;

  private:
    EmbeddedPodman() = default;
    Status start(const std::filesystem::path& podman);
    /// The keeper thread: spawns the service, then waits for it to exit or for stop().
    void keep(const std::filesystem::path& podman);
    Status wait_until_answering();
    void stop();
    std::string log_tail() const;

    std::filesystem::path dir_;
    std::filesystem::path socket_;
    std::filesystem::path log_;
    util::UniqueFd stop_read_;
    util::UniqueFd stop_write_;
    std::thread keeper_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool spawned_ = false;     // guarded by mutex_: the keeper has tried to spawn
    std::string spawn_error_;  // guarded by mutex_
    pid_t pid_ = 0;            // guarded by mutex_
    bool exited_ = false;      // guarded by mutex_
    int wait_status_ = 0;      // guarded by mutex_
};

}  // namespace arunner::isolation
