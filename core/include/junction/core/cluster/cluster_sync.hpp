// On a store several hosts share, keeps this host running what the others installed and
// switched: it waits for their announcements (Store::listen_for_changes, PostgreSQL's
// LISTEN/NOTIFY) or a few seconds, then installs the packages it lacks (checked under its
// own signature policy) and moves its live instances to the versions the store records
// (ConnectorUpdates::follow_store). After a change it says so at once (a heartbeat
// carrying its versions), which is what an apply through another host waits for.
#pragma once

#include <junction/core/cluster/package_replication.hpp>
#include <junction/core/updates/connector_updates.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace junction::core {

class ClusterSync {
public:
    // `changed`: called after packages were installed or a version followed (the heartbeat).
    // `look_every`: the longest time between two looks when no announcement comes.
    ClusterSync(Store& store, ConnectorRegistry& registry, ConnectorUpdates& updates, StoredPackageCheck check,
                std::function<void()> changed, std::chrono::milliseconds look_every);
    ~ClusterSync();
    ClusterSync(const ClusterSync&) = delete;
    ClusterSync& operator=(const ClusterSync&) = delete;

    // Packages refused so far are tried again at the next look (SIGHUP: a key was added).
    void retry_refused();

private:
    void loop();
    void look();

    Store& store_;
    ConnectorRegistry& registry_;
    ConnectorUpdates& updates_;
    StoredPackageCheck check_;
    std::function<void()> changed_;
    std::chrono::milliseconds look_every_;
    std::unique_ptr<StoreChanges> changes_;
    PackageSyncMemory memory_;  // the sync thread's alone
    std::atomic<bool> forget_refusals_{false};
    bool failing_ = false;  // the last look failed (said once)
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace junction::core
