#include <junction/core/instances/instance_runtime.hpp>

#include <junction/core/error.hpp>
#include <junction/core/json_schema.hpp>

#include <openssl/crypto.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace junction::core {

InstanceRuntime::InstanceRuntime(Store& store, const SecretBox& secrets,
                                 ConnectorRegistry& registry, size_t max_live)
    : store_(store), secrets_(secrets), registry_(registry), max_live_(max_live) {}

ConnectorVersionPtr InstanceRuntime::version_for(const InstanceRecord& record) const {
    return registry_.find(record.connector, record.version_pin);
}

std::string InstanceRuntime::clear_config(const InstanceRecord& record) const {
    rapidjson::Document config = parse_json_text(record.settings_json, "stored settings");
    auto& a = config.GetAllocator();
    for (const auto& sealed : record.secrets) {
        std::string clear = secrets_.open(record.id, sealed);
        config.RemoveMember(sealed.field.c_str());
        config.AddMember(rapidjson::Value(sealed.field.c_str(), a),
                         rapidjson::Value(clear.data(), static_cast<rapidjson::SizeType>(clear.size()), a), a);
        OPENSSL_cleanse(clear.data(), clear.size());
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    config.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::shared_ptr<LiveInstance> InstanceRuntime::acquire(const InstanceRecord& record) {
    ConnectorVersionPtr version = version_for(record);
    if (!version)
        throw Error(Errc::not_found,
                    "connector '" + record.connector + "'" +
                        (record.version_pin.empty() ? "" : " version " + record.version_pin) +
                        " is not installed; install it, or change the instance's version pin",
                    "instance '" + record.name + "'");
    {
        std::lock_guard lock(mutex_);
        auto it = live_.find(record.id);
        // Reuse only what was built from this very record on this very version.
        if (it != live_.end() && it->second.live->record_updated_ms == record.updated_ms &&
            &it->second.live->connector->version() == version.get()) {
            lru_.splice(lru_.begin(), lru_, it->second.position);
            return it->second.live;
        }
    }

    auto live = std::make_shared<LiveInstance>();
    live->state = std::make_unique<StoreInstanceState>(store_, record.id);
    live->record_updated_ms = record.updated_ms;
    std::string config = clear_config(record);
    try {
        live->connector = version->create_instance({record.id, config, live->state.get(), {}});
    } catch (...) {
        OPENSSL_cleanse(config.data(), config.size());
        throw;
    }
    OPENSSL_cleanse(config.data(), config.size());

    std::lock_guard lock(mutex_);
    auto it = live_.find(record.id);
    if (it != live_.end()) {
        lru_.erase(it->second.position);
        live_.erase(it);
    }
    lru_.push_front(record.id);
    live_.emplace(record.id, Entry{live, lru_.begin()});
    while (live_.size() > max_live_) {
        live_.erase(lru_.back());
        lru_.pop_back();
    }
    return live;
}

void InstanceRuntime::forget(std::string_view id) {
    std::lock_guard lock(mutex_);
    auto it = live_.find(std::string(id));
    if (it == live_.end()) return;
    lru_.erase(it->second.position);
    live_.erase(it);
}

size_t InstanceRuntime::live_count() const {
    std::lock_guard lock(mutex_);
    return live_.size();
}

}  // namespace junction::core
