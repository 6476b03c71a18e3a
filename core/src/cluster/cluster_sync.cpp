#include <junction/core/cluster/cluster_sync.hpp>

#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>

namespace junction::core {

ClusterSync::ClusterSync(Store& store, ConnectorRegistry& registry, ConnectorUpdates& updates,
                         StoredPackageCheck check, std::function<void()> changed,
                         std::chrono::milliseconds look_every)
    : store_(store),
      registry_(registry),
      updates_(updates),
      check_(std::move(check)),
      changed_(std::move(changed)),
      look_every_(look_every),
      changes_(store.listen_for_changes()),
      thread_([this] {
          name_this_thread("jn-cluster");
          loop();
      }) {}

ClusterSync::~ClusterSync() {
    stopping_ = true;
    changes_->interrupt();
    thread_.join();
}

void ClusterSync::retry_refused() {
    forget_refusals_ = true;  // by the sync thread, at its next look: a look in progress is not waited for
    changes_->interrupt();    // look now
}

void ClusterSync::loop() {
    while (!stopping_) {
        look();  // the first at once: what changed between this host's start and its listening
        if (stopping_) break;
        try {
            changes_->wait(look_every_);  // an announcement, or time for the next look anyway
        } catch (const std::exception& e) {  // never out of the thread: that would end the daemon
            log_warn("cluster", std::string("listening for the other hosts' changes failed: ") + e.what());
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
}

void ClusterSync::look() {
    try {
        if (forget_refusals_.exchange(false)) memory_.forget();
        const PackageSyncReport packages = sync_packages(store_, registry_, check_, &memory_);
        const std::vector<std::string> moved = updates_.follow_store();
        if (!packages.installed.empty() || !moved.empty()) changed_();
        if (failing_) log_info("cluster", "looking at the other hosts' changes again");
        failing_ = false;
    } catch (const std::exception& e) {
        if (!failing_)  // once per outage, not at every look
            log_warn("cluster", std::string("cannot look at what the other hosts changed: ") + e.what() +
                                    " (trying again every few seconds; said again once it works)");
        failing_ = true;
    }
}

}  // namespace junction::core
