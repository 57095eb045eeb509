#pragma once
// Writes small files on a thread of its own, in order, so that the kernel's cost of creating
// thousands of job_events files overlaps the parsing of the next events (`process` ingests a
// whole stream as fast as it can read it). Memory is bounded: the queue holds at most
// `max_queued` files and push() waits when it is full.

#include <condition_variable>
#include <deque>
#include <filesystem>
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

    /// Queues `content` for `path` (mode 0600). Returns the first write error seen so far, if any.
    Status push(std::filesystem::path path, std::string content);
    /// Queues any writing work (run in order on the writer thread); its Error is kept like a
    /// write error.
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
