// The NetSuite simulator's ceiling: what it takes from a tight client (libcurl PUTs with a
// fixed bearer token, `in_flight` threads, no Junction), measured in the same run as the
// figure it bounds. The simulator must run with `--bench-token bench-token`.
#pragma once

#include <junction/core/net/http_client.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bench {

// A sales order as the order-sync flows make them.
inline const char* const kSalesOrder =
    R"({"externalId":"X","cancelled":false,"memo":"#1001","entity":{"email":"customer7000000@example.com"},"currency":"EUR","total":123.45,"tranDate":"2026-01-01","item":[{"itemId":"SKU-001","quantity":1,"rate":12.5},{"itemId":"SKU-002","quantity":2,"rate":30.25}]})";

// Requests per second over `requests` PUTs.
inline double netsuite_ceiling(const std::string& ns_url, int in_flight, size_t requests) {
    std::atomic<size_t> next{0};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < in_flight; ++t)
        threads.emplace_back([&] {
            junction::core::HttpClient http;
            junction::core::HttpClient::Result r;
            std::string error;
            for (size_t i; (i = next++) < requests;) {
                http.send("PUT", ns_url + "/services/rest/record/v1/salesOrder/eid:CEIL-" + std::to_string(i),
                          {{"Authorization", "Bearer bench-token"}, {"Content-Type", "application/json"}}, kSalesOrder, r,
                          error);
                if (r.status != 204) throw std::runtime_error("ceiling PUT answered " + std::to_string(r.status) + error);
            }
        });
    for (auto& t : threads) t.join();
    return static_cast<double>(requests) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace bench
