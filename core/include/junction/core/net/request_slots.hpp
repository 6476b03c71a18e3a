// How many HTTP requests may be in flight at once for whoever shares these slots: a send
// shape's `concurrency`, an exact bound across all the threads and calls of its run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <semaphore>

namespace junction::core {

class RequestSlots {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::ptrdiff_t kMax = 1024;

    explicit RequestSlots(std::ptrdiff_t count) : free_(count < 1 ? 1 : count > kMax ? kMax : count) {}

    enum class Wait { taken, cancelled, timed_out };

    // Waits for a slot until `deadline`, or until `cancelled` is set (looked at every 20 ms).
    Wait acquire(const std::atomic<bool>* cancelled, Clock::time_point deadline = Clock::time_point::max()) {
        for (;;) {
            if (cancelled && cancelled->load(std::memory_order_relaxed)) return Wait::cancelled;
            const auto now = Clock::now();
            if (now >= deadline) return Wait::timed_out;
            if (free_.try_acquire_until(std::min(deadline, now + std::chrono::milliseconds(20)))) return Wait::taken;
        }
    }
    bool try_acquire() { return free_.try_acquire(); }
    void release() { free_.release(); }

    // True while this thread hands a batch's results to a plugin. A request the plugin makes
    // from there must not wait for a slot its own batch holds (it would wait on itself): it
    // takes a free slot or goes without one.
    static bool& handing_results() {
        thread_local bool flag = false;
        return flag;
    }

private:
    std::counting_semaphore<kMax> free_;
};

}  // namespace junction::core
