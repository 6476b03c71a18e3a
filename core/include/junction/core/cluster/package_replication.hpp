// Connector packages shared through the store (issue 17): a package installed through any
// host (the API, a folder drop, the marketplace) is kept in the store by its content hash,
// and a host installs the ones it lacks, each staged and checked again under its own
// signature policy, as if uploaded with the signature the first host verified. Only for a
// store several hosts share (Store::shared): on one host's SQLite file the registry's own
// folder is the only copy needed.
#pragma once

#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/store/store.hpp>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace junction::core {

// Keeps an installed package in the store (once per hash). `reinstate`: an admin installed
// it, which takes back an earlier uninstall of that version. Throws Error(io).
void publish_package(Store& store, const PackageInfo& package, bool reinstate);

// The check a stored package passes before it installs, given the signature it was stored with.
using StoredPackageCheck = std::function<ConnectorRegistry::PackageCheck(const std::optional<std::string>& signature)>;

struct PackageSyncReport {
    std::vector<PackageInfo> installed;  // from the store
    struct Refusal {
        std::string package;  // name@version
        std::string reason;
    };
    std::vector<Refusal> refused;
    size_t published = 0;  // installed here but not yet in the store
};

// What a host's earlier syncs decided, so that a sync repeated every few seconds tries and
// logs each refusal once (forget() it to try them all again: SIGHUP, a key added).
struct PackageSyncMemory {
    std::set<std::string> refused;     // sha256 of packages from the store this host refused
    std::set<std::string> failed;      // sha256 of those that failed for the moment (said once; tried again)
    std::set<std::string> not_shared;  // name@version withdrawn elsewhere, kept here
    void forget() {
        refused.clear();
        failed.clear();
        not_shared.clear();
    }
};

// Installs every package the store holds that the registry lacks, and publishes every
// installed package the store lacks, except versions uninstalled through any host (a
// withdrawal is kept, so a host that still has the files does not bring them back). A
// package this host refuses (its policy, a hash that does not match, another build of the
// same version installed here) is reported, not thrown.
PackageSyncReport sync_packages(Store& store, ConnectorRegistry& registry, const StoredPackageCheck& check,
                                PackageSyncMemory* memory = nullptr);

}  // namespace junction::core
