// The marketplace: a catalogue of connector packages (index.json in a directory or at an
// http(s) URL), each version with its sha256 and an Ed25519 signature by the publisher's
// key. Packages are fetched, checked against the catalogue's hash and the trusted key, and
// installed; the update policy then decides when they run. Nothing unverified installs.
#pragma once

#include <junction/core/marketplace/trusted_keys.hpp>
#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/net/http_client.hpp>
#include <junction/core/updates/connector_updates.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

struct CatalogueVersion {
    std::string version;
    std::string file;  // relative to the catalogue
    std::string sha256;
    std::string signature;  // base64 Ed25519 over "junction-package-v1:<sha256>"
    std::string min_abi;    // "1.0": the oldest host ABI that can load it
    std::string release_notes;
};

struct CataloguePackage {
    std::string name;
    std::string display_name;
    std::string description;
    std::vector<CatalogueVersion> versions;  // oldest first
};

struct UpdateOffer {
    std::string name;
    std::string active_version;
    std::string available_version;
    std::string release_notes;
};

// Parses an index.json; throws Error(invalid_argument) naming what is wrong.
std::vector<CataloguePackage> parse_catalogue(std::string_view json);

// Whether this host's ABI can load a package that needs `min_abi` ("1.0").
bool abi_compatible(std::string_view min_abi);

class Marketplace {
public:
    // `source`: a directory holding index.json, or an http(s) URL of one.
    // `trusted_key_file`: the publisher's Ed25519 public key (PEM).
    Marketplace(std::string source, std::filesystem::path trusted_key_file, ConnectorRegistry& registry,
                ConnectorUpdates& updates, HttpOptions http = {});

    // Packages signed by a key in this folder are trusted too (trusted-keys).
    void also_trust_keys_in(std::filesystem::path folder) { trusted_keys_folder_ = std::move(folder); }

    bool configured() const { return !source_.empty(); }
    std::vector<CataloguePackage> list(std::string_view search = {});
    CataloguePackage show(std::string_view name);
    // Installs NAME@VERSION (the newest compatible when empty) after checking hash and
    // signature. Throws Error(plugin_rejected) for a package that does not verify.
    PackageInfo install(std::string_view name, std::string_view version, const std::string& actor);
    // Installed connectors for which the catalogue has a newer compatible version.
    std::vector<UpdateOffer> updates();

private:
    std::string fetch(const std::string& relative);  // bytes of a file of the catalogue
    TrustedKeys trusted_keys() const;

    std::string source_;
    std::filesystem::path trusted_key_file_;
    std::filesystem::path trusted_keys_folder_;
    ConnectorRegistry& registry_;
    ConnectorUpdates& updates_;
    HttpOptions http_;
};

}  // namespace junction::core
