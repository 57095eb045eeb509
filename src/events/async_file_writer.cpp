#include "events/async_file_writer.hpp"

namespace arunner::events {

AsyncFileWriter::AsyncFileWriter(size_t max_queued)
    : max_queued_(max_queued), thread_([this] { run(); }) {}

AsyncFileWriter::~AsyncFileWriter() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

Status AsyncFileWriter::push_task(std::function<Status()> task) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < max_queued_; });
    if (error_) {
        return *error_;
    }
    queue_.push_back(std::move(task));
    changed_.notify_all();
    return {};
}

Status AsyncFileWriter::finish() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return queue_.empty() && !busy_; });
    if (error_) {
        return *error_;
    }
    return {};
}

void AsyncFileWriter::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) {
            return;  // stop_ and nothing left
        }
        auto task = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
        changed_.notify_all();
        lock.unlock();
        Status written = task();
        lock.lock();
        busy_ = false;
        if (!written && !error_) {
            error_ = written.error();
        }
        changed_.notify_all();
    }
}

}  // namespace arunner::events
