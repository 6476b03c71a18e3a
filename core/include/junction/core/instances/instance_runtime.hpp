// The live side of instances: the plugin objects. An instance exists in the store whether
// or not it runs; its plugin object is created on first use from the stored config (the
// credentials decrypted only then, only in memory) and kept while it is used. At most
// `max_live` idle plugin objects are kept, so ten thousand configured instances cost ten
// thousand store rows, not ten thousand plugin objects.
//
// An unpinned instance runs on its connector's active version, a pinned one on its pin. A
// hot swap prepares the new plugin objects aside, then, inside `exclusive`, commits and
// replaces them in one step; acquire() never sees half of it.
#pragma once

#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/secrets/clear_text.hpp>
#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>
#include <junction/core/instances/store_instance_state.hpp>
#include <junction/core/instances/swap_gate.hpp>
#include <junction/core/updates/active_versions.hpp>

#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace junction::core {

// One running instance. Calls hold a shared_ptr to it, so eviction, an update or a hot
// swap never pulls a plugin object from under a call in progress.
struct LiveInstance {
    std::string connector;
    bool pinned = false;
    int64_t record_updated_ms = 0;  // the record version it was built from
    std::unique_ptr<StoreInstanceState> state;
    std::unique_ptr<ConnectorInstance> plugin;
};

using LiveInstancePtr = std::shared_ptr<LiveInstance>;

class InstanceRuntime {
public:
    InstanceRuntime(Store& store, const SecretBox& secrets, ConnectorRegistry& registry,
                    ActiveVersions& active, size_t max_live = 256, HttpOptions http = {});

    // The running instance (by id or name), created when needed on the version it should
    // run on; callers that miss the cache together wait for one build and share it.
    // Throws Error(not_found) for an unknown instance or a connector that is not
    // installed, and the plugin's Error when it refuses the config.
    LiveInstancePtr acquire(std::string_view id_or_name);

    // Drops the running instance (after an update or a delete); calls in flight finish.
    void forget(std::string_view id);
    size_t live_count() const;

    // The version a record runs on: its pin, or its connector's active version.
    ConnectorVersionPtr version_for(const InstanceRecord& record) const;
    // The manifest a new or changed config must fit. Null when not installed.
    std::shared_ptr<const Manifest> manifest_for(std::string_view connector,
                                                 std::string_view version_pin) const;

    // The full config (settings and decrypted credentials) of a record, as JSON text, with
    // the credentials as configured: what a writer of the record starts from. (A plugin
    // object is built with the connector's rotations of them applied.) Lives only in
    // memory; callers must not log or return it.
    std::string clear_config(const InstanceRecord& record) const;

    // For hot swaps: builds a plugin object on `version` without caching it; lists the
    // cached unpinned instances of a connector; and runs `commit` with every acquire held
    // off, after which `replacements` are the connector's cached instances.
    LiveInstancePtr build(const InstanceRecord& record, const ConnectorVersionPtr& version) const;
    std::vector<std::string> live_unpinned(std::string_view connector) const;
    // Outbound HTTP calls (first) and errors (second) per instance name since the start
    // (a renamed instance starts a new series at its next plugin object).
    const CounterTable& http_counters() const { return http_counters_; }
    void exclusive_switch(std::string_view connector, const std::function<void()>& commit,
                          std::vector<std::pair<std::string, LiveInstancePtr>> replacements);

private:
    std::string config_text(const InstanceRecord& record,
                            const std::vector<std::pair<std::string, ClearText>>& credentials) const;
    // On a shared store, for an unpinned record about to be built on `version`: the version
    // the store records when another host switched the connector and this one has not yet
    // followed (null when they agree). Throws Error(plugin_rejected) when this host lacks it.
    ConnectorVersionPtr switched_elsewhere(const InstanceRecord& record, const ConnectorVersionPtr& version) const;
    // Caches `live` (mutex_ held); what it displaces goes to `evicted`, for the caller to
    // destroy once the lock is released.
    void cache(const std::string& id, LiveInstancePtr live, std::vector<LiveInstancePtr>& evicted);

    Store& store_;
    const SecretBox& secrets_;
    ConnectorRegistry& registry_;
    ActiveVersions& active_;
    size_t max_live_;
    HttpOptions http_;  // for every plugin object built
    mutable CounterTable http_counters_;
    SwapGate swap_gate_;          // shared: acquire; exclusive: the commit of a hot swap
    mutable std::mutex mutex_;     // the cache
    std::list<std::string> lru_;   // most recent first
    struct Entry {
        LiveInstancePtr live;
        std::list<std::string>::iterator position;
    };
    std::unordered_map<std::string, Entry> live_;
    // forget() calls so far: acquire() caches what it built only if none came between its
    // read of the record and the end of the build (a delete racing a test or a run).
    uint64_t forgets_ = 0;
    // Plugin objects being built, so callers that miss the cache together wait for one
    // build (one OAuth grant, one plugin object) instead of each making their own.
    struct Building {
        int64_t record_updated_ms;
        const ConnectorVersion* version;
        std::shared_future<LiveInstancePtr> result;
    };
    std::unordered_map<std::string, Building> building_;
};

}  // namespace junction::core
