// The lease keeper: one thread per host that renews the leases of the runs in its hands,
// every third of the lease. A run whose lease another host took (this host was too slow or
// cut off from the database) is stopped here without another write: the fenced checkpoint
// would refuse it anyway, and the other host resumes from the last checkpoint. A run an
// admin cancelled through another host is cancelled here.
#include <junction/core/flows/flow_service.hpp>

#include <junction/core/common/log.hpp>

namespace junction::core {

void FlowService::keep_leases() {
    std::unique_lock lock(mutex_);
    const auto over = [&] { return stopping_ && active_.empty(); };
    while (!over()) {
        if (keeper_wake_.wait_for(lock, options_.lease / 3, over)) break;
        lock.unlock();
        renew_leases_once();
        lock.lock();
    }
}

std::vector<HeldRun> FlowService::held_runs() {
    std::lock_guard lock(mutex_);
    std::vector<HeldRun> held;
    for (const auto& [id, a] : active_) held.push_back({id, a->epoch});
    return held;
}

void FlowService::renew_leases_once() {
    const std::vector<HeldRun> runs = held_runs();
    if (runs.empty()) return;
    std::map<std::string, bool> held;
    try {
        held = store_.flows().renew_leases(lease(), runs);
    } catch (const std::exception& e) {
        // Not lost yet: the runs' checkpoints are fenced, and the next renewal may succeed.
        log_warn("flows", std::string("cannot renew the leases of the runs in hand: ") + e.what());
        return;
    }
    std::vector<HeldRun> not_renewed;
    for (const auto& run : runs) {
        auto h = held.find(run.run_id);
        if (h == held.end()) {
            not_renewed.push_back(run);
            continue;
        }
        std::lock_guard lock(mutex_);
        auto a = active_.find(run.run_id);
        if (a != active_.end() && a->second->epoch == run.epoch && h->second && !a->second->cancelled.exchange(true))
            a->second->signals.stop = true;  // cancelled through another host
    }
    for (const auto& run : not_renewed) {
        // Not renewed: lost, unless the run ended in this worker's hands meanwhile.
        std::optional<RunRecord> now;
        try {
            now = store_.flows().find_run(run.run_id);
        } catch (const std::exception&) {
        }
        const bool ended = now && !run_is_open(now->status) && now->lease_epoch == run.epoch;
        std::lock_guard lock(mutex_);
        auto a = active_.find(run.run_id);
        if (ended || a == active_.end() || a->second->epoch != run.epoch) continue;
        if (!a->second->lost.exchange(true))
            log_warn("flows", "run " + run.run_id + ": this host lost its lease (it could not renew it in time); "
                                  "the run resumes from its last checkpoint on the host that takes it");
        a->second->signals.stop = true;
    }
}

bool FlowService::still_held(const HeldRun& run) {
    try {
        return store_.flows().renew_leases(lease(), {run}).count(run.run_id) > 0;
    } catch (const std::exception&) {
        return true;  // unknown: let the fenced write decide
    }
}

}  // namespace junction::core
