#include <junction/core/flows/run_pruner.hpp>

#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>

namespace junction::core {

namespace {
constexpr int64_t kDayMs = 86'400'000;
// Runs per transaction: a webhook run holds its payload (up to max-webhook-bytes), so a
// batch frees a few MB and holds the store's lock for milliseconds.
constexpr size_t kRunBatch = 16;
constexpr size_t kKeyBatch = 2000;
}  // namespace

RunPruner::RunPruner(FlowStore& store, RetentionPolicy defaults, std::chrono::milliseconds interval)
    : store_(store), defaults_(defaults), interval_(interval) {}

RunPruner::~RunPruner() { stop(); }

void RunPruner::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] {
        name_this_thread("jn-prune");
        loop();
    });
}

void RunPruner::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool RunPruner::stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
}

RunPruner::Pruned RunPruner::prune_once(int64_t now_ms) {
    Pruned total;
    for (const auto& f : store_.list_flows()) {
        // One flow's failure is its own: the others are still pruned.
        try {
            const RetentionPolicy p = flows::retention_of(f.document_json, defaults_);
            const int64_t runs_before = p.run_days ? now_ms - p.run_days * kDayMs : 0;
            if (runs_before || p.runs) {
                size_t n = kRunBatch;
                while (n == kRunBatch && !stopping()) total.runs += n = store_.prune_runs(f.id, runs_before, p.runs, kRunBatch);
            }
            if (p.dedupe_key_days) {
                size_t n = kKeyBatch;
                const int64_t keys_before = now_ms - p.dedupe_key_days * kDayMs;
                while (n == kKeyBatch && !stopping())
                    total.dedupe_keys += n = store_.prune_dedupe_keys(f.id, keys_before, kKeyBatch);
            }
        } catch (const std::exception& e) {
            log_error("flows", "retention: flow " + f.name + " could not be pruned: " + e.what());
        }
        if (stopping()) break;
    }
    return total;
}

void RunPruner::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        try {
            const Pruned p = prune_once(now_ms());
            if (p.runs || p.dedupe_keys)
                log_info("flows", "retention: pruned " + std::to_string(p.runs) + " runs and " +
                                      std::to_string(p.dedupe_keys) + " de-dupe keys");
        } catch (const std::exception& e) {
            log_error("flows", std::string("retention: cannot list the flows: ") + e.what());
        }
        lock.lock();
        wake_.wait_for(lock, interval_, [&] { return stopping_; });
    }
}

}  // namespace junction::core
