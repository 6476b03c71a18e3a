// An HTTP server that answers after a delay, counts the requests it holds at once and notes
// when each came: how tests see that a `concurrency` is both reached and never passed, and
// that requests start no sooner than asked.
#pragma once

#include "http_test_server.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace junction::testing {

struct InFlightServer {
    explicit InFlightServer(int delay_ms = 30) : delay_ms(delay_ms) {}

    // When a request came, and its body: how tests see when each one started.
    struct Arrival {
        std::chrono::steady_clock::time_point at;
        std::string body;
    };
    std::vector<Arrival> arrivals() {
        std::lock_guard lock(mutex);
        return arrived;
    }

    const int delay_ms;
    std::atomic<int> now{0}, most{0};
    std::mutex mutex;
    std::vector<Arrival> arrived;
    HttpTestServer server{[this](const RecordedRequest& r) {
        {
            std::lock_guard lock(mutex);
            arrived.push_back({std::chrono::steady_clock::now(), r.body});
        }
        const int n = ++now;
        for (int seen = most.load(); n > seen && !most.compare_exchange_weak(seen, n);) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        --now;
        return CannedResponse{200, {}, "got " + r.body.substr(0, r.body.find('.'))};
    }};

    std::vector<std::string> urls(int count) const {
        std::vector<std::string> out;
        for (int i = 0; i < count; ++i) out.push_back(server.url("/ok/" + std::to_string(i)));
        return out;
    }
};

}  // namespace junction::testing
