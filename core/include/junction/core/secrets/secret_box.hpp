// Seals and opens credentials with AES-256-GCM (OpenSSL EVP): a fresh 12-byte nonce per
// value, and the instance id and field name bound as associated data, so a sealed value
// copied onto another instance or field fails to open.
#pragma once

#include <junction/core/store/store.hpp>

#include <array>
#include <string>
#include <string_view>

namespace junction::core {

using MasterKey = std::array<unsigned char, 32>;

class SecretBox {
public:
    explicit SecretBox(const MasterKey& key) : key_(key) {}
    ~SecretBox();
    SecretBox(const SecretBox&) = default;
    SecretBox& operator=(const SecretBox&) = default;

    SealedSecret seal(std::string_view instance_id, std::string_view field,
                      std::string_view plaintext) const;
    // Throws Error(invalid_argument) when the value does not open with this key (wrong key,
    // or a value tampered with or moved).
    std::string open(std::string_view instance_id, const SealedSecret& sealed) const;

    // A value that proves which key sealed the store's secrets, without revealing it.
    std::string make_key_check() const;
    bool matches_key_check(std::string_view check) const;

private:
    MasterKey key_;
};

}  // namespace junction::core
