// A host's core on a fresh state directory, wired exactly as junctiond wires it, for tests
// that drive core without the daemon.
#pragma once

#include "test_paths.hpp"

#include <junction/core/host_core.hpp>

namespace junction::testing {

struct EmbeddedHost {
    explicit EmbeddedHost(size_t max_live = 256)
        : core(dir.path(), core::HostCoreOptions{max_live, "", {}, {}}) {}

    // Installs a package the way the daemon does (the first version becomes active).
    core::PackageInfo install(const std::filesystem::path& package) { return core.install(package, "test"); }

    TempDir dir;
    core::HostCore core;
    core::Store* const store = core.store.get();
    core::SecretBox& secrets = core.secrets;
    core::ConnectorRegistry& registry = core.registry;
    core::InstanceRuntime& runtime = core.runtime;
    core::ConnectorUpdates& updates = core.updates;
    core::InstanceService& service = core.instances;
};

}  // namespace junction::testing
