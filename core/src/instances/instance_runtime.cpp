#include <junction/core/instances/instance_runtime.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/secrets/clear_text.hpp>
#include <junction/core/secrets/instance_secrets.hpp>

#include <openssl/crypto.h>
#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace junction::core {

InstanceRuntime::InstanceRuntime(Store& store, const SecretBox& secrets, ConnectorRegistry& registry,
                                 ActiveVersions& active, size_t max_live, HttpOptions http)
    : store_(store),
      secrets_(secrets),
      registry_(registry),
      active_(active),
      max_live_(max_live),
      http_(std::move(http)) {}

ConnectorVersionPtr InstanceRuntime::version_for(const InstanceRecord& record) const {
    if (!record.version_pin.empty()) return registry_.load(record.connector, record.version_pin);
    return active_.get(record.connector);
}

std::shared_ptr<const Manifest> InstanceRuntime::manifest_for(std::string_view connector,
                                                              std::string_view pin) const {
    if (!pin.empty()) {
        auto info = registry_.package(connector, pin);
        return info ? info->manifest : nullptr;
    }
    auto active = active_.get(connector);
    return active ? active->shared_manifest() : nullptr;
}

std::string InstanceRuntime::clear_config(const InstanceRecord& record) const {
    std::vector<std::pair<std::string, ClearText>> configured;
    for (const auto& sealed : record.secrets) configured.emplace_back(sealed.field, ClearText(secrets_.open(record.id, sealed)));
    return config_text(record, configured);
}

std::string InstanceRuntime::config_text(const InstanceRecord& record,
                                         const std::vector<std::pair<std::string, ClearText>>& credentials) const {
    rapidjson::Document config = parse_json_text(record.settings_json, "stored settings");
    auto& a = config.GetAllocator();
    for (const auto& [field, clear] : credentials) {
        config.RemoveMember(field.c_str());
        config.AddMember(rapidjson::Value(field.c_str(), a),
                         rapidjson::Value(clear.str().data(), static_cast<rapidjson::SizeType>(clear.str().size()), a), a);
    }
    rapidjson::StringBuffer buffer;
    json::Utf8Writer writer(buffer);
    config.Accept(writer);
    std::string out(buffer.GetString(), buffer.GetSize());
    // The writer's copy is wiped here; the document's pool is not (clear_text.hpp).
    OPENSSL_cleanse(const_cast<char*>(buffer.GetString()), buffer.GetSize());
    return out;
}

LiveInstancePtr InstanceRuntime::build(const InstanceRecord& record,
                                       const ConnectorVersionPtr& version) const {
    auto live = std::make_shared<LiveInstance>();
    live->connector = record.connector;
    live->pinned = !record.version_pin.empty();
    live->record_updated_ms = record.updated_ms;
    live->state = std::make_unique<StoreInstanceState>(store_, secrets_, record.id, version->manifest().secret_fields);
    // The plugin sees its own rotations of its credentials (instance_secrets.hpp); writers
    // of the record keep working on the configured values (clear_config).
    const ClearText config(config_text(record, open_instance_secrets(secrets_, record)));
    {
        // A crash in the plugin's instance creation in this process quarantines this version
        // (crash_markers.hpp); in a connector process it only ends that process.
        const auto marker = version->isolation() == Isolation::in_process
                                ? mark_risky_call(registry_.crash_markers(), version->sha256(), version->id(),
                                                  "creating an instance of it")
                                : CrashMarkers::Scope{};
        live->plugin = version->create_instance(
            {record.id, config.str(), live->state.get(), http_, http_counters_.get(record.name)});
    }
    return live;
}

LiveInstancePtr InstanceRuntime::acquire(std::string_view id_or_name) {
    std::shared_lock gate(swap_gate_);
    uint64_t forgets_before = 0;  // a forget() from here on may be of the record read next
    {
        std::lock_guard lock(mutex_);
        forgets_before = forgets_;
    }
    const auto record = store_.find_instance(id_or_name);
    if (!record)
        throw Error(Errc::not_found, "no instance '" + std::string(id_or_name) + "'");
    ConnectorVersionPtr version = version_for(*record);
    if (!version) {
        const auto installed = registry_.package(record->connector, record->version_pin);
        if (const std::string why = installed ? registry_.quarantine_reason(*installed) : ""; !why.empty())
            throw Error(Errc::plugin_rejected,
                        "connector " + installed->id() + " is quarantined: " + why +
                            "; install a fixed build and apply it, or try this one again with "
                            "`junction connectors release " + installed->name + "`",
                        "instance '" + record->name + "'");
    }
    if (!version && record->version_pin.empty() && store_.shared())
        if (const auto state = store_.connector_state(record->connector))
            throw Error(Errc::plugin_rejected,
                        "connector " + record->connector + " runs " + state->active_version + " on the hosts sharing "
                            "this store, and this host does not run it (refused, or not shared yet: its log says "
                            "which); fix its signature settings, or drain it (`junction daemon drain`)",
                        "instance '" + record->name + "'");
    if (!version)
        throw Error(Errc::not_found,
                    "connector '" + record->connector + "'" +
                        (record->version_pin.empty() ? "" : " version " + record->version_pin) +
                        " is not installed; install it, or change the instance's version pin",
                    "instance '" + record->name + "'");
    std::promise<LiveInstancePtr> built;
    std::shared_future<LiveInstancePtr> pending;  // another caller's build of the same thing
    {
        std::lock_guard lock(mutex_);
        auto it = live_.find(record->id);
        // Reuse only what was built from this very record on this very version, and only
        // while its plugin instance lives (a connector process that ended took it along).
        if (it != live_.end() && it->second.live->record_updated_ms == record->updated_ms &&
            &it->second.live->plugin->version() == version.get() && it->second.live->plugin->usable()) {
            lru_.splice(lru_.begin(), lru_, it->second.position);
            return it->second.live;
        }
        auto b = building_.find(record->id);
        if (b != building_.end() && b->second.record_updated_ms == record->updated_ms &&
            b->second.version == version.get())
            pending = b->second.result;
        else
            building_.insert_or_assign(record->id, Building{record->updated_ms, version.get(), built.get_future().share()});
    }
    if (pending.valid()) return pending.get();  // the same plugin object, or the same error
    auto done_building = [&] {  // mutex_ held
        auto b = building_.find(record->id);
        if (b != building_.end() && b->second.record_updated_ms == record->updated_ms && b->second.version == version.get())
            building_.erase(b);
    };
    LiveInstancePtr live;
    bool lagging = false;  // built on the version another host switched to: not cached
    try {
        ConnectorVersionPtr build_on = version;
        if (auto theirs = switched_elsewhere(*record, version)) {
            build_on = std::move(theirs);
            lagging = true;
        }
        live = build(*record, build_on);
    } catch (...) {
        std::lock_guard lock(mutex_);
        done_building();
        built.set_exception(std::current_exception());
        throw;
    }
    std::vector<LiveInstancePtr> evicted;  // destroyed after the lock: the last one of an old
    {                                      // version unloads its library, which takes a while
        std::lock_guard lock(mutex_);
        // A record deleted or changed while this was built is not cached: forget() has run
        // already and nothing would ever drop the entry but the LRU, so a deleted instance's
        // plugin object (its parsed config alone is a 64 KiB rapidjson pool) would stay.
        // The caller still gets it; it goes with the caller's last reference.
        if (forgets_ == forgets_before && !lagging) cache(record->id, live, evicted);
        done_building();
    }
    built.set_value(live);
    return live;
}

ConnectorVersionPtr InstanceRuntime::switched_elsewhere(const InstanceRecord& record,
                                                      const ConnectorVersionPtr& version) const {
    if (!record.version_pin.empty() || !store_.shared()) return nullptr;
    const auto state = store_.connector_state(record.connector);
    if (!state || state->active_version == version->version()) return nullptr;
    // Another host switched the connector and this one has not followed yet (it does within
    // milliseconds): the record may already be in the new version's shape.
    if (registry_.package(record.connector, state->active_version))
        if (auto theirs = registry_.load(record.connector, state->active_version)) return theirs;
    throw Error(Errc::plugin_rejected,
                "connector " + record.connector + " runs " + state->active_version + " on the hosts sharing this "
                    "store, and this host does not have that version (refused, or not shared yet: its log says "
                    "which); fix its signature settings, or drain it (`junction daemon drain`)",
                "instance '" + record.name + "'");
}

void InstanceRuntime::cache(const std::string& id, LiveInstancePtr live,
                            std::vector<LiveInstancePtr>& evicted) {
    if (auto it = live_.find(id); it != live_.end()) {
        evicted.push_back(std::move(it->second.live));
        lru_.erase(it->second.position);
        live_.erase(it);
    }
    lru_.push_front(id);
    live_.emplace(id, Entry{std::move(live), lru_.begin()});
    while (live_.size() > max_live_) {
        auto oldest = live_.find(lru_.back());
        evicted.push_back(std::move(oldest->second.live));
        live_.erase(oldest);
        lru_.pop_back();
    }
}

std::vector<std::string> InstanceRuntime::live_unpinned(std::string_view connector) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> ids;
    for (const auto& [id, entry] : live_)
        if (entry.live->connector == connector && !entry.live->pinned) ids.push_back(id);
    return ids;
}

void InstanceRuntime::exclusive_switch(std::string_view connector, const std::function<void()>& commit,
                                       std::vector<std::pair<std::string, LiveInstancePtr>> replacements) {
    std::vector<LiveInstancePtr> retired;  // destroyed after the gate opens again
    {
        std::unique_lock gate(swap_gate_);
        commit();
        std::lock_guard lock(mutex_);
        for (auto it = live_.begin(); it != live_.end();) {  // what ran on the old version
            if (it->second.live->connector == connector && !it->second.live->pinned) {
                retired.push_back(std::move(it->second.live));
                lru_.erase(it->second.position);
                it = live_.erase(it);
            } else {
                ++it;
            }
        }
        for (auto& [id, live] : replacements) cache(id, std::move(live), retired);
    }
}

void InstanceRuntime::forget(std::string_view id) {
    LiveInstancePtr gone;  // destroyed after the lock
    std::lock_guard lock(mutex_);
    ++forgets_;  // even when nothing is cached: a build of the old record may be under way
    auto it = live_.find(std::string(id));
    if (it == live_.end()) return;
    gone = std::move(it->second.live);
    lru_.erase(it->second.position);
    live_.erase(it);
}

size_t InstanceRuntime::live_count() const {
    std::lock_guard lock(mutex_);
    return live_.size();
}

}  // namespace junction::core
