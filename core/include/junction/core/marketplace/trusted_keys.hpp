// The publisher keys a host trusts (decision 0016): the marketplace's key (marketplace-key)
// and every public key in the trusted-keys folder (the operator's own, a second publisher,
// a rotated key). A package is trusted when any one of them signed it; which one is
// recorded with the install.
#pragma once

#include <junction/core/registry/package_layout.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

struct TrustedKey {
    std::string id;          // public_key_id()
    std::string file;        // its file name
    std::string public_pem;
};

class TrustedKeys {
public:
    // Reads `key_file` (empty: none) and every *.pem and *.pub in `folder` (empty: none).
    // Throws Error(invalid_argument) naming a file that is not an Ed25519 public key: a
    // typo in the keyring is said, not skipped.
    static TrustedKeys read(const std::filesystem::path& key_file, const std::filesystem::path& folder);

    bool empty() const { return keys_.empty(); }
    const std::vector<TrustedKey>& keys() const { return keys_; }
    // The key that made `signature_b64` over a package with this SHA-256; none when no
    // trusted key did.
    std::optional<PackageSigner> signer_of(std::string_view sha256_hex, std::string_view signature_b64) const;

private:
    std::vector<TrustedKey> keys_;
};

}  // namespace junction::core
