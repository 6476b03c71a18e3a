// The one signature policy for every way a package arrives outside the marketplace: a drop
// into the plugin folder (signature in <file>.sig), an upload through the admin API
// (signature in the request), a path in the plugin folder named through the API. Signed by
// a trusted key: installed, and the key recorded. Unsigned: refused unless
// allow-unsigned-drops. A signature that no trusted key made: always refused.
// Decision 0016.
#pragma once

#include <junction/core/marketplace/trusted_keys.hpp>
#include <junction/core/registry/connector_registry.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace junction::core {

struct PackageTrustSettings {
    bool allow_unsigned = false;                // allow-unsigned-drops
    std::string allow_unsigned_setting = "allow-unsigned-drops";  // its name, for the messages
    std::filesystem::path marketplace_key;      // marketplace-key
    std::filesystem::path trusted_keys_folder;  // trusted-keys
};

class PackageTrust {
public:
    explicit PackageTrust(PackageTrustSettings settings) : settings_(std::move(settings)) {}

    // The keys as they are on disk now: a key added to the folder counts at the next check.
    TrustedKeys keys() const;
    bool allow_unsigned() const { return settings_.allow_unsigned; }

    // Checks a package whose bytes hash to `sha256` and that came with `signature` (base64;
    // none when unsigned). Throws Error(plugin_rejected) saying why and what to do.
    PackageSigner check(const std::string& sha256, const std::optional<std::string>& signature,
                        const std::string& subject, const std::string& unsigned_hint) const;

    // The check of a file with its signature beside it (<file>.sig), for the registry.
    PackageSigner check_file(const std::filesystem::path& file, const std::string& sha256) const;
    // The check of an upload whose signature came with it.
    ConnectorRegistry::PackageCheck check_upload(std::optional<std::string> signature) const;

private:
    PackageTrustSettings settings_;
};

// The signature in a .sig file (trailing newline dropped), or none when there is no file.
// Throws Error(plugin_rejected) for one too large to be a signature.
std::optional<std::string> read_signature_file(const std::filesystem::path& sig);

}  // namespace junction::core
