// Where an admin chose, through the API, that a connector runs: over the config file's
// isolation for that connector, until set back (decision 0015). Kept in the store by
// ConnectorUpdates; read by the registry's load policy on every load, from any thread.
#pragma once

#include <junction/core/bridge/bridge.hpp>

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace junction::core {

class IsolationChoices {
public:
    std::optional<Isolation> get(std::string_view connector) const {
        std::shared_lock lock(mutex_);
        auto it = chosen_.find(connector);
        return it == chosen_.end() ? std::nullopt : std::optional<Isolation>(it->second);
    }
    // nullopt: the config file's again.
    void set(const std::string& connector, std::optional<Isolation> isolation) {
        std::unique_lock lock(mutex_);
        if (isolation) chosen_[connector] = *isolation;
        else chosen_.erase(connector);
    }

private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, Isolation, std::less<>> chosen_;
};

// "process" or "in-process" as the API and the store spell them; nullopt for "" (the config
// file's). Throws Error(invalid_argument) for anything else.
std::optional<Isolation> parse_isolation(std::string_view text);

}  // namespace junction::core
