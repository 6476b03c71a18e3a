// Membership: every host writes its row in the store's hosts table every few seconds
// (name, version, admin address, running or draining), so any host can list the cluster
// (GET /v1/cluster) and tell a live host from one that stopped answering. Hosts not seen
// for a day are forgotten.
#pragma once

#include <junction/core/store/store.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace junction::core {

class HostHeartbeat {
public:
    // `state` says what the host is doing now ("running" | "draining"), and `versions` the
    // version of each connector it runs, both asked at each beat. Throws
    // Error(invalid_argument) when a live host on another machine has the same id.
    HostHeartbeat(Store& store, HostRecord self, std::chrono::milliseconds interval,
                  std::function<std::string()> state, std::function<std::map<std::string, std::string>()> versions);
    // Writes the row a last time as "stopped".
    ~HostHeartbeat();
    HostHeartbeat(const HostHeartbeat&) = delete;
    HostHeartbeat& operator=(const HostHeartbeat&) = delete;

    // Writes the row now (a state change, a version switch).
    void beat();

private:
    void refuse_a_copied_id();
    void loop();

    Store& store_;
    HostRecord self_;
    std::chrono::milliseconds interval_;
    std::function<std::string()> state_;
    std::function<std::map<std::string, std::string>()> versions_;
    std::mutex write_mutex_;  // held by a beat from its snapshot to its write
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

// A host is live while its heartbeat is younger than this many intervals.
constexpr int kMissedHeartbeats = 3;

}  // namespace junction::core
