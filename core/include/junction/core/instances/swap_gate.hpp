// A reader/writer gate that lets a waiting writer in first. Instance calls pass it as
// readers all the time; a hot swap's commit is the rare writer. std::shared_mutex on glibc
// prefers readers, so under constant calls a swap could wait forever: here, once a writer
// waits, new readers wait behind it (for the few milliseconds of the commit).
#pragma once

#include <condition_variable>
#include <mutex>

namespace junction::core {

class SwapGate {
public:
    void lock_shared() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !writer_ && writers_waiting_ == 0; });
        ++readers_;
    }
    void unlock_shared() {
        std::lock_guard lock(mutex_);
        if (--readers_ == 0) changed_.notify_all();
    }
    void lock() {
        std::unique_lock lock(mutex_);
        ++writers_waiting_;
        changed_.wait(lock, [&] { return !writer_ && readers_ == 0; });
        --writers_waiting_;
        writer_ = true;
    }
    void unlock() {
        std::lock_guard lock(mutex_);
        writer_ = false;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int readers_ = 0;
    int writers_waiting_ = 0;
    bool writer_ = false;
};

}  // namespace junction::core
