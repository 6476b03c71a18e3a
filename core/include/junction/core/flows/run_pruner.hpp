// Applies retention (retention.hpp) in the background: one thread that, every `interval`,
// goes through the flows and deletes what each one's policy no longer keeps, a small batch
// per transaction so runs writing their checkpoints wait for one batch at most.
#pragma once

#include <junction/core/flows/retention.hpp>
#include <junction/core/store/flow_store.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace junction::core {

class RunPruner {
public:
    RunPruner(FlowStore& store, RetentionPolicy defaults, std::chrono::milliseconds interval);
    ~RunPruner();

    void start();
    // Waits for the batch in hand, not for the pass.
    void stop();

    struct Pruned {
        size_t runs = 0;
        size_t dedupe_keys = 0;
    };
    // One pass over every flow as of `now_ms` (what the thread does each interval).
    Pruned prune_once(int64_t now_ms);

private:
    void loop();
    bool stopping();

    FlowStore& store_;
    RetentionPolicy defaults_;
    std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace junction::core
