#include <junction/core/host_core.hpp>

namespace junction::core {

namespace {

FlowServiceOptions for_host(FlowServiceOptions options, const HostIdentity& host) {
    options.host_id = host.id();
    return options;
}

}  // namespace

HostCore::HostCore(const std::filesystem::path& dir, const HostCoreOptions& options)
    : state_dir(dir),
      identity(dir),
      store(open_store(options.store, dir)),
      keys{dir / "master.key", options.master_key_env},
      secrets(open_secret_box(*store, keys)),
      markers(dir),
      registry(dir / "plugins", &markers,
               [policy = options.connectors, dir, counters = connector_processes,
                stopping = connector_calls_stopped, choices = &isolation_choices](const std::string& name) {
                   LoadOptions o = policy.for_connector(name, dir);
                   if (const auto chosen = choices->get(name)) o.isolation = *chosen;  // the API wins
                   o.process.counters = counters;
                   o.process.stopping = stopping;
                   return o;
               }),
      runtime(*store, secrets, registry, active, options.max_live_instances, options.http),
      updates(*store, secrets, registry, runtime, active, &isolation_choices),
      instances(*store, secrets, registry, runtime),
      flows(*store, secrets, runtime, for_host(options.flows, identity)) {
    if (store->shared()) {
        // Before the versions are restored: the active version may have been installed elsewhere.
        const StoredPackageCheck refuse = [](const std::optional<std::string>&) -> ConnectorRegistry::PackageCheck {
            return [](const std::string& file, const std::string&) -> PackageSigner {
                throw Error(Errc::plugin_rejected, "this host has no signature policy for packages from the store",
                            file);
            };
        };
        sync_packages(*store, registry, options.stored_package_check ? options.stored_package_check : refuse);
    }
    updates.restore();
}

LoadOptions ConnectorLoadPolicy::for_connector(const std::string& name, const std::filesystem::path& state_dir) const {
    auto it = per_connector.find(name);
    LoadOptions options = it == per_connector.end() ? defaults : it->second;
    // Each connector's processes share a folder of their own, the one place they may write.
    options.process.work_dir = state_dir / "connector-data" / (name.empty() ? std::string(".checks") : name);
    return options;
}

PackageInfo HostCore::install(const std::filesystem::path& package, const std::string& actor) {
    PackageInfo info = registry.install(package);
    updates.on_installed(info, actor);
    return info;
}

}  // namespace junction::core
