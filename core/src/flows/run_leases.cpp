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
    while (!stopping_ || !active_.empty()) {
        keeper_wake_.wait_for(lock, options_.lease / 3);
        lock.unlock();
        renew_leases_once();
        lock.lock();
    }
}

void FlowService::renew_leases_once() {
    const std::vector<std::string> ids = runs_in_hand();
    if (ids.empty()) return;
    std::map<std::string, bool> held;
    try {
        held = store_.flows().renew_leases(lease(), ids);
    } catch (const std::exception& e) {
        // Not lost yet: the runs' checkpoints are fenced, and the next renewal may succeed.
        log_warn("flows", std::string("cannot renew the leases of the runs in hand: ") + e.what());
        return;
    }
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
        auto a = active_.find(id);
        if (a == active_.end()) continue;  // ended meanwhile
        auto h = held.find(id);
        if (h == held.end()) {
            if (!a->second->lost.exchange(true))
                log_warn("flows", "run " + id + ": this host lost its lease (it could not renew it in time); "
                                      "another host resumes the run from its last checkpoint");
            a->second->signals.stop = true;
        } else if (h->second && !a->second->cancelled.exchange(true)) {
            a->second->signals.stop = true;  // cancelled through another host
        }
    }
}

bool FlowService::still_held(const std::string& run_id) {
    try {
        return store_.flows().renew_leases(lease(), {run_id}).count(run_id) > 0;
    } catch (const std::exception&) {
        return true;  // unknown: let the fenced write decide
    }
}

}  // namespace junction::core
