// Where a plugin instance's key/value state lives (jn_host_api.state_*). The store-backed
// implementation keeps it across restarts; the in-memory one serves tools and tests.
#pragma once

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
