// The core of a host in one object, on a fresh state directory: store, master key,
// registry, active versions, instance runtime, updates and the instance service, wired as
// junctiond wires them. For tests that drive core without the daemon.
#pragma once

#include "test_paths.hpp"

#include <junction/core/instances/instance_service.hpp>
#include <junction/core/secrets/master_key.hpp>
#include <junction/core/updates/connector_updates.hpp>

namespace junction::testing {

struct EmbeddedHost {
    explicit EmbeddedHost(size_t max_live = 256) : runtime(*store, secrets, registry, active, max_live) {}

    TempDir dir;
    std::unique_ptr<core::Store> store = core::open_sqlite_store(dir / "junction.db");
    core::SecretBox secrets = core::open_secret_box(*store, {dir / "master.key", ""});
    core::ConnectorRegistry registry{dir / "plugins"};
    core::ActiveVersions active;
    core::InstanceRuntime runtime;
    core::ConnectorUpdates updates{*store, secrets, registry, runtime, active};
    core::InstanceService service{*store, secrets, registry, runtime};

    // Installs a package the way the daemon does (the first version becomes active).
    core::PackageInfo install(const std::filesystem::path& package) {
        auto info = registry.install(package);
        updates.on_installed(info, "test");
        return info;
    }
};

}  // namespace junction::testing
