// A host's core on a fresh state directory, wired exactly as junctiond wires it, for tests
// that drive core without the daemon.
#pragma once

#include "test_paths.hpp"

#include <junction/core/host_core.hpp>

namespace junction::testing {

// Connectors run in connector processes, as junctiond runs them by default; a test of the
// in-process mode says so.
struct EmbeddedHost {
    explicit EmbeddedHost(size_t max_live = 256, core::Isolation isolation = core::Isolation::process)
        : core(dir.path(), options(max_live, isolation)) {}

    // The connectors' processes may use the tests' files (jsonl), under the temp folder.
    static core::HostCoreOptions options(size_t max_live, core::Isolation isolation) {
        core::HostCoreOptions o;
        o.max_live_instances = max_live;
        o.connectors.defaults.isolation = isolation;
        o.connectors.defaults.process.paths = {std::filesystem::temp_directory_path()};
        return o;
    }

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
