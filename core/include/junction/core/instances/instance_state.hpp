// What the host keeps for a plugin instance: its key/value state (jn_host_api.state_*) and,
// from ABI 1.3, its credentials as the connector rotates them (credential_get/swap). The
// store-backed implementation (store_instance_state.hpp) keeps both across restarts; the
// in-memory one serves tools and tests, and keeps no credentials.
#pragma once

#include <junction/plugin_api.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace junction::core {

class InstanceState {
public:
    virtual ~InstanceState() = default;
    virtual std::optional<std::string> get(std::string_view key) = 0;
    virtual void set(std::string_view key, std::string_view value) = 0;
    virtual void erase(std::string_view key) = 0;

    // The current value of the secret field `name` into `value`: JN_OK, JN_ERR_NOT_FOUND
    // (not set), JN_ERR_INVALID_REQUEST (not a secret field), JN_ERR_UNSUPPORTED.
    virtual jn_status credential(std::string_view /*name*/, std::string& /*value*/) { return JN_ERR_UNSUPPORTED; }
    // Stores `value` only if the current value is `expected` (empty: not set): JN_OK,
    // JN_ERR_CONFLICT, JN_ERR_INVALID_REQUEST, JN_ERR_UNSUPPORTED.
    virtual jn_status swap_credential(std::string_view /*name*/, std::string_view /*expected*/,
                                      std::string_view /*value*/) {
        return JN_ERR_UNSUPPORTED;
    }
};

class MemoryInstanceState final : public InstanceState {
public:
    std::optional<std::string> get(std::string_view key) override {
        std::lock_guard lock(mutex_);
        auto it = values_.find(key);
        if (it == values_.end()) return std::nullopt;
        return it->second;
    }
    void set(std::string_view key, std::string_view value) override {
        std::lock_guard lock(mutex_);
        values_.insert_or_assign(std::string(key), std::string(value));
    }
    void erase(std::string_view key) override {
        std::lock_guard lock(mutex_);
        if (auto it = values_.find(key); it != values_.end()) values_.erase(it);
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace junction::core
