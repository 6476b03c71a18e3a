// Everything core a host process runs, wired in the one right order on a state directory:
// the store, the master key, the registry, the active versions, the instance runtime,
// updates, the instance service and the flow service. junctiond, the tests and the benchmarks all use it,
// so they run the same thing.
#pragma once

#include <junction/core/cluster/host_identity.hpp>
#include <junction/core/cluster/package_replication.hpp>
#include <junction/core/flows/flow_service.hpp>
#include <junction/core/instances/instance_service.hpp>
#include <junction/core/secrets/master_key.hpp>
#include <junction/core/updates/connector_updates.hpp>

#include <atomic>

#include <filesystem>
#include <map>
#include <string>
#include <memory>

namespace junction::core {

// How connectors load: every connector as `defaults` says (in a connector process of its
// own unless set otherwise), except those named in `per_connector`.
struct ConnectorLoadPolicy {
    LoadOptions defaults{Isolation::process, {}};
    std::map<std::string, LoadOptions> per_connector;

    // The options for one connector ("" for a package not yet described), with its
    // connector process's folder under `state_dir`.
    LoadOptions for_connector(const std::string& name, const std::filesystem::path& state_dir) const;
};

struct HostCoreOptions {
    std::string store;  // "": SQLite in the state directory; else a PostgreSQL URL (open_store)
    size_t max_live_instances = 256;
    std::string master_key_env;  // JUNCTION_MASTER_KEY's value, empty for the key file
    HttpOptions http;            // the outbound HTTP the plugins' calls go through
    FlowServiceOptions flows;
    ConnectorLoadPolicy connectors;
    // On a store several hosts share: the check of a package another host installed, before
    // it installs here (junctiond: its signature policy). Unset: such packages are refused.
    StoredPackageCheck stored_package_check;
};

class HostCore {
public:
    // Locks the state directory, opens the store (creating it), the master key (refusing a wrong one), the registry
    // of <state>/plugins, and restores the active versions.
    HostCore(const std::filesystem::path& state_dir, const HostCoreOptions& options = {});

    // Installs a package and lets the update policy decide what runs it.
    PackageInfo install(const std::filesystem::path& package, const std::string& actor);

    const std::filesystem::path state_dir;
    HostIdentity identity;  // first: the state directory is this process's before anything opens in it
    std::unique_ptr<Store> store;
    KeySource keys;  // junctiond wipes its env_value once it needs it no more
    SecretBox secrets;
    CrashMarkers markers;  // before the registry: what crashed the last process is quarantined first
    // Connector processes started, crashed, killed and quarantined (for /metrics).
    const std::shared_ptr<ConnectorProcessCounters> connector_processes = std::make_shared<ConnectorProcessCounters>();
    // Cancels every call still running in a connector process (the stop's grace is over).
    void cancel_connector_calls() { connector_calls_stopped->store(true); }
    const std::shared_ptr<std::atomic<bool>> connector_calls_stopped = std::make_shared<std::atomic<bool>>(false);
    // Isolation set through the API, over `options.connectors` (kept in the store by updates).
    IsolationChoices isolation_choices;
    ConnectorRegistry registry;
    ActiveVersions active;
    InstanceRuntime runtime;
    ConnectorUpdates updates;
    InstanceService instances;
    FlowService flows;  // runs start only after flows.start()
};

}  // namespace junction::core
