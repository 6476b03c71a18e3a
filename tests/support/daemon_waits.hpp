// Waiting on a junctiond the test started: for the admin API's address in its log, and for a
// condition to come true (a drop installed). Header-only, for the tests that start the
// daemon themselves.
#pragma once

#include "child_process.hpp"
#include "test_paths.hpp"

#include <chrono>
#include <functional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

namespace junction::testing {

// The "http://127.0.0.1:PORT" junctiond logs once it listens; throws when it did not within a minute.
inline std::string admin_url_from_log(const std::filesystem::path& log) {
    if (!wait_for_text(log, "admin API listening on", std::chrono::seconds(60)))
        throw std::runtime_error("junctiond did not start listening; its log: " + read_text(log));
    std::smatch m;
    const std::string text = read_text(log);
    if (!std::regex_search(text, m, std::regex(R"(listening on (http://127\.0\.0\.1:\d+))")))
        throw std::runtime_error("no admin API address in the log: " + text);
    return m.str(1);
}

// Polls `condition` until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace junction::testing
