// The live side of instances: the plugin objects. An instance exists in the store whether
// or not it runs; its plugin object is created on first use from the stored config (the
// credentials decrypted only then, only in memory) and kept while it is used. At most
// `max_live` idle plugin objects are kept, so ten thousand configured instances cost ten
// thousand store rows, not ten thousand plugin objects.
#pragma once

#include <junction/core/connector_registry.hpp>
#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace junction::core {

// Plugin state kept in the store, per instance.
class StoreInstanceState final : public InstanceState {
public:
    StoreInstanceState(Store& store, std::string instance_id)
        : store_(store), id_(std::move(instance_id)) {}
    std::optional<std::string> get(std::string_view key) override { return store_.state_get(id_, key); }
    void set(std::string_view key, std::string_view value) override { store_.state_set(id_, key, value); }
    void erase(std::string_view key) override { store_.state_delete(id_, key); }

private:
    Store& store_;
    std::string id_;
};

// One running instance. Calls hold a shared_ptr to it, so eviction or an update never
// pulls a plugin object from under a call in progress.
struct LiveInstance {
    std::unique_ptr<StoreInstanceState> state;
    std::unique_ptr<ConnectorInstance> connector;
    int64_t record_updated_ms = 0;  // the record version it was built from
};

class InstanceRuntime {
public:
    InstanceRuntime(Store& store, const SecretBox& secrets, ConnectorRegistry& registry,
                    size_t max_live = 256);

    // The running instance for a record, created when needed. Throws Error(not_found) when
    // its connector (or pinned version) is not installed, and the plugin's Error when it
    // refuses the config.
    std::shared_ptr<LiveInstance> acquire(const InstanceRecord& record);

    // Drops the running instance (after an update or a delete); calls in flight finish.
    void forget(std::string_view id);

    size_t live_count() const;

    // The connector version a record runs on (its pin, or the newest installed).
    ConnectorVersionPtr version_for(const InstanceRecord& record) const;

    // The full config (settings and decrypted credentials) of a record, as JSON text.
    // Lives only in memory; callers must not log or return it.
    std::string clear_config(const InstanceRecord& record) const;

private:
    Store& store_;
    const SecretBox& secrets_;
    ConnectorRegistry& registry_;
    size_t max_live_;
    mutable std::mutex mutex_;
    std::list<std::string> lru_;  // most recent first
    struct Entry {
        std::shared_ptr<LiveInstance> live;
        std::list<std::string>::iterator position;
    };
    std::unordered_map<std::string, Entry> live_;
};

}  // namespace junction::core
