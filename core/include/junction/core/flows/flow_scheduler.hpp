// Fires schedule triggers: one thread that sleeps until the next cron time of any enabled
// scheduled flow (at most a minute), and plans again when flows change.
#pragma once

#include <junction/core/store/flow_store.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace junction::core {

class FlowScheduler {
public:
    // `fire` starts a run of the flow (or says why not); called on the scheduler's thread.
    FlowScheduler(FlowStore& store, std::function<void(const FlowRecord&)> fire);
    ~FlowScheduler();

    void start();
    void stop();
    // A flow was saved, deleted, enabled or disabled: plan again now.
    void flows_changed();

private:
    void loop();

    FlowStore& store_;
    std::function<void(const FlowRecord&)> fire_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false, changed_ = false;
    std::thread thread_;
};

}  // namespace junction::core
