// Runs an action at a deadline unless it is destroyed first: junctiond's stop cancels the
// connector calls still running when its grace is over.
#pragma once

#include <junction/core/common/thread_name.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace junction::daemon {

class StopDeadline {
public:
    StopDeadline(std::chrono::steady_clock::time_point at, std::function<void()> action)
        : thread_([this, at, action = std::move(action)] {
              core::name_this_thread("jn-deadline");
              std::unique_lock lock(mutex_);
              if (!done_changed_.wait_until(lock, at, [&] { return done_; })) action();
          }) {}
    ~StopDeadline() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_changed_.notify_one();
        thread_.join();
    }
    StopDeadline(const StopDeadline&) = delete;
    StopDeadline& operator=(const StopDeadline&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable done_changed_;
    bool done_ = false;
    std::thread thread_;  // last: starts once the rest is made
};

}  // namespace junction::daemon
