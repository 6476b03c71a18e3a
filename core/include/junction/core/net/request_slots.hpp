// How many HTTP requests may be in flight at once for whoever shares these slots: a send
// shape's `concurrency`, an exact bound across all the threads and calls of its run.
#pragma once

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <condition_variable>
#include <mutex>

namespace junction::core {

// Not std::counting_semaphore: libstdc++'s try_acquire spins with sched_yield before it
// gives up, and a batch asks for a slot it will not get once per request in flight; that
// was a system call per request on a busy send.
class RequestSlots {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::ptrdiff_t kMax = 1024;

    explicit RequestSlots(std::ptrdiff_t count) : free_(count < 1 ? 1 : count > kMax ? kMax : count) {}

    enum class Wait { taken, cancelled, timed_out };

    // Waits for a slot until `deadline`, or until `cancelled` is set (looked at every 20 ms).
    Wait acquire(const std::atomic<bool>* cancelled, Clock::time_point deadline = Clock::time_point::max()) {
        for (;;) {
            if (try_acquire()) return Wait::taken;
            if (cancelled && cancelled->load(std::memory_order_relaxed)) return Wait::cancelled;
            const auto now = Clock::now();
            if (now >= deadline) return Wait::timed_out;
            std::unique_lock lock(mutex_);
            ++waiting_;
            freed_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)), [&] { return free_.load() > 0; });
            --waiting_;
        }
    }
    bool try_acquire() {
        for (std::ptrdiff_t n = free_.load(); n > 0;)
            if (free_.compare_exchange_weak(n, n - 1)) return true;
        return false;
    }
    void release() {
        free_.fetch_add(1);
        if (waiting_.load() == 0) return;  // a waiter counted after this sees the slot before it sleeps
        std::lock_guard lock(mutex_);
        freed_.notify_one();
    }

    // True while this thread hands a batch's results to a plugin. A request the plugin makes
    // from there must not wait for a slot its own batch holds (it would wait on itself): it
    // takes a free slot or goes without one.
    static bool& handing_results() {
        thread_local bool flag = false;
        return flag;
    }

private:
    std::atomic<std::ptrdiff_t> free_;
    std::atomic<int> waiting_{0};
    std::mutex mutex_;
    std::condition_variable freed_;
};

}  // namespace junction::core
