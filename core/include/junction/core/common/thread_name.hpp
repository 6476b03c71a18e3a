// Names the calling thread (`jn-run-2`, `jn-send-14`, `jn-api-0`) so that top -H, perf and a
// core dump show where junctiond's time goes. Linux keeps 15 characters; longer names are cut.
#pragma once

#include <pthread.h>

#include <atomic>
#include <string>

namespace junction::core {

inline void name_this_thread(std::string name) {
    if (name.size() > 15) name.resize(15);
    pthread_setname_np(pthread_self(), name.c_str());
}

// `kind-N` with N counting the threads of that kind started so far: short-lived kinds get
// fresh numbers, so two threads never show the same name.
inline void name_this_thread(const char* kind, std::atomic<unsigned>& started) {
    name_this_thread(std::string(kind) + "-" + std::to_string(started.fetch_add(1, std::memory_order_relaxed)));
}

}  // namespace junction::core
