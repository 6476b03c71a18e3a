// Pages handed from the thread that reads them (a receive's plugin call) to the run's
// thread, at most `capacity` waiting: the next page is fetched while the current one goes
// through the flow, and memory stays bounded. Either side can stop the other: the reader
// by finishing or failing, the run by closing (the reader's next push throws).
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace junction::core::flows {

class PageQueue {
public:
    explicit PageQueue(size_t capacity) : capacity_(capacity) {}

    // Reader side. Blocks while full; throws once the run side closed the queue.
    void push(std::string page) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return closed_ || pages_.size() < capacity_; });
        if (closed_) throw std::runtime_error("the run stopped reading");
        pages_.push_back(std::move(page));
        changed_.notify_all();
    }
    // The reader is done: normally (no error) or with the error it ended on.
    void finish(std::exception_ptr error = nullptr) {
        std::lock_guard lock(mutex_);
        finished_ = true;
        error_ = error;
        changed_.notify_all();
    }

    // Run side. The next page; nullopt once the reader finished and every page was taken
    // (then error() says whether it failed).
    std::optional<std::string> pop() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return finished_ || !pages_.empty(); });
        if (pages_.empty()) return std::nullopt;
        std::string page = std::move(pages_.front());
        pages_.pop_front();
        changed_.notify_all();
        return page;
    }
    // True when pop() would not wait.
    bool ready() {
        std::lock_guard lock(mutex_);
        return finished_ || !pages_.empty();
    }
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        pages_.clear();
        changed_.notify_all();
    }
    std::exception_ptr error() {
        std::lock_guard lock(mutex_);
        return error_;
    }

private:
    const size_t capacity_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> pages_;
    bool closed_ = false, finished_ = false;
    std::exception_ptr error_;
};

}  // namespace junction::core::flows
