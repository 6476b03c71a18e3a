// The threads a send shape sends on, kept for the whole run: started at its first batch
// that needs them, at most `concurrency - 1` (the run's own thread is the other one),
// ended with the run. A page's requests are spread over them; no page starts a thread.
#pragma once

#include <junction/core/common/thread_name.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace junction::core::flows {

class SendWorkers {
public:
    explicit SendWorkers(size_t concurrency) : helpers_(concurrency > 1 ? concurrency - 1 : 0) {}
    ~SendWorkers() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        job_posted_.notify_all();
        for (auto& t : threads_) t.join();
    }
    SendWorkers(const SendWorkers&) = delete;
    SendWorkers& operator=(const SendWorkers&) = delete;

    // Runs task(0) .. task(count - 1), each once, on the calling thread and the workers;
    // returns when all have run. `task` must not throw.
    void run(size_t count, const std::function<void(size_t)>& task) {
        if (count == 0) return;
        start(std::min(helpers_, count - 1));
        {
            std::lock_guard lock(mutex_);
            task_ = &task;
            count_ = count;
            next_ = 0;
            unfinished_ = count;
            ++job_;
        }
        job_posted_.notify_all();
        work_on_job();
        std::unique_lock lock(mutex_);
        job_done_.wait(lock, [&] { return unfinished_ == 0; });
        task_ = nullptr;
    }

private:
    void start(size_t wanted) {
        while (threads_.size() < wanted)
            threads_.emplace_back([this] {
                static std::atomic<unsigned> started{0};
                name_this_thread("jn-send", started);
                loop();
            });
    }

    void loop() {
        uint64_t seen = 0;
        std::unique_lock lock(mutex_);
        for (;;) {
            job_posted_.wait(lock, [&] { return stopping_ || (job_ != seen && next_ < count_); });
            if (stopping_) return;
            seen = job_;
            lock.unlock();
            work_on_job();
            lock.lock();
        }
    }

    // Takes the job's tasks one by one until none is left.
    void work_on_job() {
        std::unique_lock lock(mutex_);
        while (task_ && next_ < count_) {
            const size_t i = next_++;
            const auto* task = task_;
            lock.unlock();
            (*task)(i);
            lock.lock();
            if (--unfinished_ == 0) job_done_.notify_all();
        }
    }

    const size_t helpers_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable job_posted_, job_done_;
    const std::function<void(size_t)>* task_ = nullptr;
    size_t count_ = 0, next_ = 0, unfinished_ = 0;
    uint64_t job_ = 0;
    bool stopping_ = false;
};

}  // namespace junction::core::flows
