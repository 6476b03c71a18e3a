#include <junction/core/host_core.hpp>

namespace junction::core {

HostCore::HostCore(const std::filesystem::path& dir, const HostCoreOptions& options)
    : state_dir(dir),
      store(open_sqlite_store(dir / "junction.db")),
      keys{dir / "master.key", options.master_key_env},
      secrets(open_secret_box(*store, keys)),
      markers(dir),
      registry(dir / "plugins", &markers),
      runtime(*store, secrets, registry, active, options.max_live_instances, options.http),
      updates(*store, secrets, registry, runtime, active),
      instances(*store, secrets, registry, runtime),
      flows(*store, secrets, runtime, options.flows) {
    updates.restore();
}

PackageInfo HostCore::install(const std::filesystem::path& package, const std::string& actor) {
    PackageInfo info = registry.install(package);
    updates.on_installed(info, actor);
    return info;
}

}  // namespace junction::core
