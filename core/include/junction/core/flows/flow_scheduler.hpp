// Fires schedule triggers: one thread that sleeps until the next cron time of any enabled
// scheduled flow (at most a minute), and plans again when flows change. Every host runs one;
// `fire` claims the tick in the store, so each tick starts one run for the whole cluster.
#pragma once

#include <junction/core/store/flow_store.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace junction::core {

class FlowScheduler {
public:
    // `fire` starts the run of the flow's tick at `tick_ms` (the cron time that came due),
    // or says why not; called on the scheduler's thread.
    using Fire = std::function<void(const FlowRecord& flow, int64_t tick_ms)>;
    FlowScheduler(FlowStore& store, Fire fire);
    ~FlowScheduler();

    void start();
    void stop();
    // A flow was saved, deleted, enabled or disabled: plan again now.
    void flows_changed();

private:
    void loop();

    FlowStore& store_;
    Fire fire_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false, changed_ = false;
    std::thread thread_;
};

}  // namespace junction::core
