// The threads a send shape sends on, kept for the whole run: started as posted work needs
// them, at most `threads`, ended with the run. Tasks start in the order they were posted
// (with one thread, one at a time and in order). No page starts a thread.
#pragma once

#include <junction/core/common/thread_name.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace junction::core::flows {

class SendWorkers {
public:
    explicit SendWorkers(size_t threads) : max_threads_(threads > 0 ? threads : 1) {}
    // Runs what was posted, then ends the threads.
    ~SendWorkers() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        posted_.notify_all();
        for (auto& t : threads_) t.join();
    }
    SendWorkers(const SendWorkers&) = delete;
    SendWorkers& operator=(const SendWorkers&) = delete;

    // Queues `task` to run on a worker. `task` must not throw.
    void post(std::function<void()> task) {
        std::lock_guard lock(mutex_);
        // The thread first: if it cannot start, nothing was queued.
        if (tasks_.size() >= idle_ && threads_.size() < max_threads_)
            threads_.emplace_back([this] {
                static std::atomic<unsigned> started{0};
                name_this_thread("jn-send", started);
                loop();
            });
        tasks_.push_back(std::move(task));
        posted_.notify_one();
    }

private:
    void loop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            ++idle_;
            posted_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
            --idle_;
            if (tasks_.empty()) return;  // stopping, and nothing is left to run
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task();
            lock.lock();
        }
    }

    const size_t max_threads_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable posted_;
    std::deque<std::function<void()>> tasks_;
    size_t idle_ = 0;  // threads waiting for a task
    bool stopping_ = false;
};

}  // namespace junction::core::flows
