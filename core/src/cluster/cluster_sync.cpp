#include <junction/core/cluster/cluster_sync.hpp>

#include <junction/core/common/log.hpp>

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
      thread_([this] { loop(); }) {}

ClusterSync::~ClusterSync() {
    stopping_ = true;
    changes_->interrupt();
    thread_.join();
}

void ClusterSync::retry_refused() {
    {
        std::lock_guard lock(memory_mutex_);
        memory_.forget();
    }
    changes_->interrupt();  // look now
}

void ClusterSync::loop() {
    while (!stopping_) {
        look();  // the first at once: what changed between this host's start and its listening
        changes_->wait(look_every_);  // an announcement, or time for the next look anyway
    }
}

void ClusterSync::look() {
    try {
        PackageSyncReport packages;
        {
            std::lock_guard lock(memory_mutex_);
            packages = sync_packages(store_, registry_, check_, &memory_);
        }
        const std::vector<std::string> moved = updates_.follow_store();
        if (!packages.installed.empty() || !moved.empty()) changed_();
    } catch (const std::exception& e) {
        log_warn("cluster", std::string("cannot look at what the other hosts changed: ") + e.what() +
                                " (trying again in a few seconds)");
    }
}

}  // namespace junction::core
