// Monotonic counters by key, for /metrics: HTTP calls and errors per instance, records
// received and delivered per flow. A holder keeps the shared_ptr of its key's pair and
// counts with relaxed atomics, so counting costs no lock; the table's lock is taken only
// to find a key and to read everything for a scrape. Counters start at zero with the
// process, as Prometheus counters may.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace junction::core {

struct CounterPair {
    std::atomic<uint64_t> first{0}, second{0};
};

class CounterTable {
public:
    std::shared_ptr<CounterPair> get(const std::string& key) {
        std::lock_guard lock(mutex_);
        auto& slot = pairs_[key];
        if (!slot) slot = std::make_shared<CounterPair>();
        return slot;
    }

    struct Row {
        std::string key;
        uint64_t first = 0, second = 0;
    };
    std::vector<Row> snapshot() const {
        std::lock_guard lock(mutex_);
        std::vector<Row> rows;
        rows.reserve(pairs_.size());
        for (const auto& [key, pair] : pairs_)
            rows.push_back({key, pair->first.load(std::memory_order_relaxed),
                            pair->second.load(std::memory_order_relaxed)});
        return rows;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<CounterPair>> pairs_;
};

}  // namespace junction::core
