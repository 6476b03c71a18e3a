#include <junction/core/cluster/switch_acks.hpp>

#include <junction/core/cluster/host_heartbeat.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>

#include <thread>

namespace junction::core {

void await_other_hosts(Store& store, const std::string& self_id, std::chrono::milliseconds heartbeat,
                       std::chrono::milliseconds wait, SwapReport& report) {
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
        report.hosts_switched.clear();
        report.hosts_not_switched.clear();
        const int64_t live_after = now_ms() - kMissedHeartbeats * heartbeat.count();
        for (const auto& h : store.list_hosts()) {
            if (h.id == self_id) {
                report.hosts_switched.insert(report.hosts_switched.begin(), {h.id, h.name});
                continue;
            }
            if (h.state == "stopped" || h.seen_ms < live_after) continue;
            auto it = h.versions.find(report.connector);
            (it != h.versions.end() && it->second == report.to_version ? report.hosts_switched
                                                                        : report.hosts_not_switched)
                .push_back({h.id, h.name});
        }
        if (report.hosts_not_switched.empty() || std::chrono::steady_clock::now() >= until) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a follower beats as it switches
    }
    for (const auto& h : report.hosts_not_switched)
        log_warn("cluster", "host " + h.name + " (" + h.id + ") does not run " + report.connector + " " +
                                report.to_version + " " + std::to_string(wait.count() / 1000) +
                                " s after the switch; its log says why (`junction daemon status` lists each "
                                "host's versions)");
}

}  // namespace junction::core
