// What an admin does with instances: create, list, show, update, delete, test. Configs
// are validated against the connector's schema with an error per field; credential fields
// are sealed before they reach the store; every view shows them as "***".
#pragma once

#include <junction/core/instances/instance_runtime.hpp>

#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace junction::json {
class Utf8Writer;
}

namespace junction::core {

struct NewInstance {
    std::string connector;
    std::string name;
    std::string auth_method;  // may be empty when the connector has exactly one
    std::string config_json = "{}";  // settings and credentials, one flat JSON object
    std::string version_pin;
};

struct InstanceChanges {
    std::optional<std::string> name;
    std::optional<std::string> auth_method;
    std::optional<std::string> version_pin;  // "" removes the pin
    std::string config_patch_json = "{}";    // fields to set; a null value removes one
    // The revision the caller read: the update is refused with Error(conflict) when the
    // instance changed since. Without it, the changes are applied to the latest record.
    std::optional<int64_t> revision;
};

// A redacted view: what any output may show.
struct InstanceView {
    std::string id;
    std::string name;
    std::string connector;
    std::string version;  // the version it runs on, or "" when the connector is missing
    std::string version_pin;
    std::string auth_method;
    std::string status;  // "untested" | "ok" | "failing" | "connector_missing"
    std::string status_detail;
    std::string settings_json;               // credentials replaced by "***"
    std::vector<std::string> secret_fields;  // which fields are credentials
    int64_t created_ms = 0;
    int64_t updated_ms = 0;
    int64_t tested_ms = 0;
    int64_t revision = 0;  // send it back with an update to refuse a stale one

    std::string to_json() const;
    // Appends it to a document being written (a page of them).
    void write_json(json::Utf8Writer& out) const;
};

struct InstancePage {
    std::vector<InstanceView> items;
    std::string next_after;  // pass as after_name for the next page; empty at the end
};

// True for fields the manifest marks writeOnly, and for the usual credential names
// (password, token, secret, api_key, client_secret, private_key...).
bool is_secret_field(const Manifest& manifest, std::string_view field);

class InstanceService {
public:
    InstanceService(Store& store, const SecretBox& secrets, ConnectorRegistry& registry,
                    InstanceRuntime& runtime);

    InstanceView create(const NewInstance& request);
    InstancePage list(const InstanceQuery& query);
    InstanceView show(std::string_view id_or_name);
    // A compare-and-set in the store: with changes.revision, a stale update gets
    // Error(conflict) saying what changed; without it, a lost race re-reads and re-applies.
    InstanceView update(std::string_view id_or_name, const InstanceChanges& changes);
    void remove(std::string_view id_or_name);
    // Runs the plugin's test_connection and records the result.
    InstanceView test(std::string_view id_or_name);

    // Throws Error(invalid_argument) naming the instances that still use the connector.
    void check_uninstall_allowed(std::string_view connector, std::string_view version = {});

private:
    InstanceRecord load(std::string_view id_or_name);
    // The record `read` with `changes` applied, validated and sealed (not yet written).
    InstanceRecord changed(const InstanceRecord& read, const InstanceChanges& changes) const;
    // Where an instance's connector stands: the version it runs on (empty when missing) and,
    // when that package is quarantined, what its status says. The same for every instance
    // of one connector and pin, so a page looks it up once for each.
    struct Standing {
        bool installed = false;
        std::string version;
        std::string quarantined;
    };
    Standing standing(const std::string& connector, const std::string& version_pin) const;
    InstanceView view(InstanceRecord record) const;
    InstanceView view(InstanceRecord record, const Standing& standing) const;
    void seal_config(InstanceRecord& record, const Manifest& manifest,
                     const std::string& config_json) const;

    Store& store_;
    const SecretBox& secrets_;
    ConnectorRegistry& registry_;
    InstanceRuntime& runtime_;
};

}  // namespace junction::core
