// Which loaded version of each connector new calls go to. Holding the pointer here is what
// keeps the active version loaded; replacing it is the moment of a hot swap.
#pragma once

#include <junction/core/registry/connector_registry.hpp>

#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace junction::core {

class ActiveVersions {
public:
    ConnectorVersionPtr get(std::string_view name) const {
        std::shared_lock lock(mutex_);
        auto it = versions_.find(name);
        return it == versions_.end() ? nullptr : it->second;
    }
    void set(const std::string& name, ConnectorVersionPtr version) {
        std::unique_lock lock(mutex_);
        versions_[name] = std::move(version);
    }
    // connector -> the version that runs it (what this host tells the others it runs).
    std::map<std::string, std::string> versions() const {
        std::shared_lock lock(mutex_);
        std::map<std::string, std::string> out;
        for (const auto& [name, version] : versions_)
            if (version) out.emplace(name, version->version());
        return out;
    }
    void erase(std::string_view name) {
        std::unique_lock lock(mutex_);
        if (auto it = versions_.find(name); it != versions_.end()) versions_.erase(it);
    }

private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, ConnectorVersionPtr, std::less<>> versions_;
};

}  // namespace junction::core
