#pragma once
// A FIFO in ART that hands one secret to the job's first reader: the ssh key for ssh-add
// (ART/ssh_key_data, docs/ssh-keys.md) and, in a container, the frame secret for the command's
// init (docs/frames.md). Created before the job starts, written by a thread of its own once a
// reader opens it, and removed after the job. The secret is never written to a regular file.
//
// The FIFO lives in ART, which the job (or its container) can write to: the writer opens it
// relative to ART's fd, never following a symlink and without blocking (it retries while no
// reader has it open), and writes only when what it opened is the very FIFO it created. Anything
// a job puts in its place gets nothing. The FIFO is held through an O_PATH fd meanwhile, so
// that its inode number cannot be reused by a file made in its place (tmpfs and ext4 hand a
// freed inode number straight out again).

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "arunner/error.hpp"
#include "util/unique_fd.hpp"

namespace arunner::exec {

/// One secret offered through one FIFO. Destroying it stops the writer and removes the FIFO.
class SecretFifo {
  public:
    /// How the writer ended (or that it has not yet).
    enum class Outcome {
        waiting,    ///< still waiting for a reader, or writing
        delivered,  ///< the whole secret was written and the FIFO closed
        replaced,   ///< the path no longer was our FIFO (a symlink, another file): nothing sent
        stopped,    ///< stop() came first
        failed,     ///< the reader went away mid-secret, or an unexpected error
    };

    /// Creates `name` in the directory `dir_fd` (not owned; duplicated) as a FIFO of mode 0600
    /// and starts the writer; a file of that name (left by a killed run) is replaced. Fails
    /// when the FIFO cannot be made (a directory of that name, say).
    static Result<std::unique_ptr<SecretFifo>> create(int dir_fd, const std::string& name,
                                                      std::string secret);

    SecretFifo(const SecretFifo&) = delete;
    SecretFifo& operator=(const SecretFifo&) = delete;
    ~SecretFifo();

    /// Stops the writer if it still waits, joins it, and removes the FIFO when it is still the
    /// one created here. Safe to call more than once.
    void stop();

    /// Waits at most `limit` for the writer to end by itself; its outcome (waiting on timeout).
    Outcome wait(std::chrono::milliseconds limit);

    /// The outcome so far.
    Outcome outcome() const;

  private:
    SecretFifo(util::UniqueFd dir, util::UniqueFd pin, std::string name, std::string secret,
               dev_t dev, ino_t ino, util::UniqueFd stop);
    void run();
    Outcome write_secret();
    /// Sleeps `timeout` unless stop() is called first: true when it was.
    bool stop_requested(std::chrono::milliseconds timeout) const;
    void finish(Outcome outcome);

    util::UniqueFd dir_;
    util::UniqueFd pin_;  ///< an O_PATH fd on the FIFO: its inode stays ours while we run
    std::string name_;
    std::string secret_;
    dev_t dev_;
    ino_t ino_;
    util::UniqueFd stop_;  ///< an eventfd: readable once stop() was called
    mutable std::mutex mutex_;
    std::condition_variable ended_;
    Outcome outcome_ = Outcome::waiting;
    std::thread thread_;
};

}  // namespace arunner::exec
