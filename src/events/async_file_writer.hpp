#pragma once
// Runs file writes (JobEventWriter's, relative to its directory fd) on a thread of its own, in
// order, so that the kernel's cost of creating thousands of job_events files overlaps the parsing
// of the next events (`process` ingests a whole stream as fast as it can read it). Memory is
// bounded: the queue holds at most `max_queued` files and push() waits when it is full.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "arunner/error.hpp"

namespace arunner::events {

/// One writer thread and its queue. push() from one thread; finish() before reading the files.
class AsyncFileWriter {
  public:
    explicit AsyncFileWriter(size_t max_queued = 1024);
    ~AsyncFileWriter();
    AsyncFileWriter(const AsyncFileWriter&) = delete;
    AsyncFileWriter& operator=(const AsyncFileWriter&) = delete;

    /// Queues writing work (run in order on the writer thread, e.g. a JobEventWriter write);
    /// returns the first error a task returned so far, if any.
    Status push_task(std::function<Status()> task);
    /// Waits until every queued file is written; the first write error, if any.
    Status finish();

  private:
    void run();
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::function<Status()>> queue_;
    size_t max_queued_;
    bool busy_ = false;
    bool stop_ = false;
    std::optional<Error> error_;
    std::thread thread_;
};

}  // namespace arunner::events
