// A connector version (a loaded library and its validated manifest) and the instances
// created from it. An instance holds a lease (shared_ptr) on its version, so a library is
// unloaded only after its last instance and its last call are gone.
#pragma once

#include <junction/core/bridge/bridge.hpp>
#include <junction/core/bridge/manifest.hpp>
#include <junction/core/bridge/process/connector_process_options.hpp>
#include <junction/core/common/counter_table.hpp>
#include <junction/core/instances/instance_state.hpp>
#include <junction/core/net/http_client.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct jn_host_instance;

namespace junction::core {

class ConnectorInstance;

// Receives each page a plugin emits (a JSON array of records, not yet parsed). Throwing
// stops the call; the exception's message becomes the call's error.
using PageSink = std::function<void(std::string_view page_json)>;

struct InstanceSpec {
    std::string id;
    std::string config_json;            // settings and credentials, in clear (never logged)
    InstanceState* state = nullptr;     // required: where the plugin's key/value state lives
    HttpOptions http;
    // Where this instance's outbound HTTP calls and errors are counted (for /metrics);
    // none when null. Shared so the count survives the plugin object (a hot swap).
    std::shared_ptr<CounterPair> http_counters;
};

struct CallOptions {
    const std::atomic<bool>* cancelled = nullptr;
    // Lines the connector writes about the call (call_log, ABI 1.4), redacted, for the
    // caller's own log (a run log); the first 100 of a call.
    std::function<void(uint32_t level, std::string_view line)> on_log;
    // Bounds the call's HTTP requests in flight together with the other calls sharing it
    // (a send shape's `concurrency`): a batch of requests runs that many at once. Null:
    // one at a time.
    RequestSlots* request_slots = nullptr;
};

// Where a version's code runs: in a connector process of its own (the default for the
// daemon) or in this process (tools, and connectors an admin trusts with the host).
struct LoadOptions {
    Isolation isolation = Isolation::in_process;
    ConnectorProcessOptions process;  // for Isolation::process
};

class ConnectorVersion : public std::enable_shared_from_this<ConnectorVersion> {
public:
    // Loads the library at `file` (already staged) and validates its manifest.
    static std::shared_ptr<ConnectorVersion> open(const std::filesystem::path& file, std::string sha256,
                                                  const LoadOptions& options = {});

    // A connector defined by data (`definition_file`, e.g. a REST manifest), run by the
    // engine library at `engine_library` (ABI 1.2), which stays loaded for as long as the
    // version lives. Throws Error(plugin_rejected) when that library is not an engine or
    // refuses the definition.
    static std::shared_ptr<ConnectorVersion> open_definition(const std::filesystem::path& engine_library,
                                                             const std::string& engine_name,
                                                             const std::filesystem::path& definition_file,
                                                             std::string sha256, const LoadOptions& options = {});
    ~ConnectorVersion();
    ConnectorVersion(const ConnectorVersion&) = delete;
    ConnectorVersion& operator=(const ConnectorVersion&) = delete;

    const Manifest& manifest() const { return *manifest_; }
    const std::shared_ptr<const Manifest>& shared_manifest() const { return manifest_; }
    const std::string& name() const { return manifest_->name; }
    const std::string& version() const { return manifest_->version; }
    std::string id() const { return manifest_->id(); }
    const std::string& sha256() const { return sha256_; }
    // The package: the library, or the definition file for a connector defined by data.
    const std::filesystem::path& file() const { return file_; }
    // For a connector defined by data: the engine that runs it; empty otherwise.
    const std::string& engine() const { return engine_; }
    AbiVersion plugin_abi() const;
    Isolation isolation() const;
    // Lets its connector process end while nothing uses it (the registry, for an engine).
    void let_process_end() const;
    // After `junction connectors release`: a quarantined connector process may start again.
    void lift_quarantine() const;

    // Validates the config against the manifest's schema, then creates the plugin's
    // instance. Throws Error(invalid_argument) for a bad config (with its JSON path) and
    // Error(plugin_failed) when the plugin refuses.
    std::unique_ptr<ConnectorInstance> create_instance(const InstanceSpec& spec) const;

    // Asks the plugin to convert a config written for `from_version`. nullopt when it
    // offers no migration (a 1.0 plugin, none written, or JN_ERR_UNSUPPORTED for that
    // version); throws Error(plugin_failed) when the migration itself fails.
    std::optional<std::string> migrate_config(std::string_view from_version,
                                              std::string_view config_json) const;

private:
    ConnectorVersion() = default;
    static std::shared_ptr<ConnectorVersion> open_bridge(const std::filesystem::path& library,
                                                         const std::string* definition,
                                                         const std::filesystem::path& file, std::string sha256,
                                                         const LoadOptions& options, const std::string& what);
    std::unique_ptr<VersionBridge> bridge_;
    std::shared_ptr<const Manifest> manifest_;
    std::string sha256_;
    std::filesystem::path file_;
    std::string engine_;
};

// Opens a package outside any registry (tools: publishing, checking, the builder): a
// library, or a definition through the engine library at `engine`.
std::shared_ptr<ConnectorVersion> open_package_file(const std::filesystem::path& package,
                                                    const std::filesystem::path& engine);

class ConnectorInstance {
public:
    ~ConnectorInstance();
    ConnectorInstance(const ConnectorInstance&) = delete;
    ConnectorInstance& operator=(const ConnectorInstance&) = delete;

    const std::string& id() const { return id_; }
    const ConnectorVersion& version() const { return *lease_; }
    // False once the plugin's instance is gone with its connector process: the next call
    // needs a new ConnectorInstance (the instance runtime makes one).
    bool usable() const;

    // Returns the plugin's optional detail JSON ("" when none); throws Error on failure.
    std::string test_connection(const CallOptions& options = {});

    // Runs an operation; each emitted page goes to `sink`. Throws Error when the
    // operation is unknown, the plugin fails, or the sink throws.
    void invoke(std::string_view operation, std::string_view request_json, const PageSink& sink,
                const CallOptions& options = {});

private:
    friend class ConnectorVersion;
    ConnectorInstance() = default;
    std::shared_ptr<const ConnectorVersion> lease_;
    std::string id_;
    std::unique_ptr<HttpClient> http_;
    std::shared_ptr<CounterPair> http_counters_;
    std::unique_ptr<jn_host_instance> host_;
    std::unique_ptr<InstanceBridge> bridge_;  // destroyed first: the plugin's instance goes
};

}  // namespace junction::core
