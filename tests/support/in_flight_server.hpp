// An HTTP server that answers after a delay and counts the requests it holds at once: how
// tests see that a `concurrency` is both reached and never passed.
#pragma once

#include "http_test_server.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace junction::testing {

struct InFlightServer {
    explicit InFlightServer(int delay_ms = 30) : delay_ms(delay_ms) {}

    const int delay_ms;
    std::atomic<int> now{0}, most{0};
    HttpTestServer server{[this](const RecordedRequest& r) {
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
