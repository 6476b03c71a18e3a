#include <junction/core/flows/flow_scheduler.hpp>

#include <junction/core/flows/flow_graph.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>

#include <chrono>

namespace junction::core {

FlowScheduler::FlowScheduler(FlowStore& store, Fire fire)
    : store_(store), fire_(std::move(fire)) {}

FlowScheduler::~FlowScheduler() { stop(); }

void FlowScheduler::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] {
        name_this_thread("jn-schedule");
        loop();
    });
}

void FlowScheduler::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void FlowScheduler::flows_changed() {
    {
        std::lock_guard lock(mutex_);
        changed_ = true;
    }
    wake_.notify_all();
}

void FlowScheduler::loop() {
    struct Planned {
        std::string cron;  // the trigger it was planned for: a saved change plans again
        int64_t at = 0;
    };
    std::map<std::string, Planned> next;  // flow id -> when it fires next
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        const int64_t now = now_ms();
        int64_t earliest = now + 60'000;
        std::map<std::string, Planned> planned;
        std::vector<FlowRecord> flows;
        try {
            flows = store_.list_flows();
        } catch (const std::exception& e) {
            log_error("flows", std::string("scheduler: cannot list the flows: ") + e.what());
            planned = next;  // nothing is known to have changed: keep the plan
        }
        for (const auto& f : flows) {
            // One flow's failure is its own: the others due in this tick still start.
            try {
                const auto t = flows::read_trigger(f.document_json);
                if (!f.enabled || t.type != "schedule") continue;
                const std::string cron = t.cron + " " + t.time_zone;
                auto known = next.find(f.id);
                int64_t at = known != next.end() && known->second.cron == cron ? known->second.at : t.next_fire(now);
                const int64_t tick = at;
                const bool due = at && at <= now;
                if (due) at = t.next_fire(now);
                if (at) {  // planned before it fires: a start that throws waits for its next time
                    planned[f.id] = {cron, at};
                    earliest = std::min(earliest, at);
                }
                if (due) fire_(f, tick);
            } catch (const std::exception& e) {
                log_error("flows", "scheduler: flow " + f.name + " could not start: " + e.what());
            }
        }
        next = std::move(planned);
        lock.lock();
        wake_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(10, earliest - now_ms())),
                       [&] { return stopping_ || changed_; });
        changed_ = false;
    }
}

}  // namespace junction::core
