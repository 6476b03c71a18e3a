// The threads a connector process runs calls on: one per call in progress, kept for the
// next call when it ends, so a steady load makes no thread per call.
#pragma once

#include <junction/core/common/thread_name.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>

namespace junction::connector_host {

class WorkerPool {
public:
    // Runs `task` on an idle worker, or on a new one when all are busy. False when no
    // worker is idle and no thread can be started (the task is not run).
    bool post(std::function<void()> task) {
        std::lock_guard lock(mutex_);
        if (idle_ <= tasks_.size()) {
            try {
                std::thread([this] {
                    core::name_this_thread("jn-call", started_);
                    work();
                }).detach();  // the process leaves with _Exit
            } catch (const std::system_error&) {
                if (idle_ <= tasks_.size()) return false;
            }
        }
        tasks_.push_back(std::move(task));
        ready_.notify_one();
        return true;
    }

private:
    void work() {
        std::unique_lock lock(mutex_);
        for (;;) {
            ++idle_;
            ready_.wait(lock, [&] { return !tasks_.empty(); });
            --idle_;
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> tasks_;
    size_t idle_ = 0;
    std::atomic<unsigned> started_{0};  // for thread names
};

}  // namespace junction::connector_host
