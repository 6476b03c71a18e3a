// Where the master key comes from, and the rules that keep a wrong or missing key from ever
// costing the stored credentials:
//  - JUNCTION_MASTER_KEY (64 hex digits or base64 of 32 bytes) wins; otherwise the key file
//    <state>/master.key (0600), created on first start only.
//  - The store keeps a key check value. A key that does not match it is refused with a
//    clear error and nothing is written; a missing key file is never replaced by a new key
//    while the store holds credentials.
//  - Rotation writes the new key to master.key.next, re-encrypts every credential and the
//    check value in one transaction, then renames the key file into place; a crash in
//    between is finished on the next start.
#pragma once

#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace junction::core {

struct KeySource {
    std::filesystem::path key_file;  // <state>/master.key
    std::string env_value;           // JUNCTION_MASTER_KEY, empty when unset
};

// The key source of a state directory, taking JUNCTION_MASTER_KEY out of the environment
// (environment_secret.hpp).
KeySource key_source_for(const std::filesystem::path& state_dir);

// Loads (or on first start creates) the master key and checks it against the store.
// Throws Error(invalid_argument) with what is wrong and what to do.
SecretBox open_secret_box(Store& store, const KeySource& source);

// Re-encrypts every credential under a new key. With a key file, a new random key replaces
// it; with JUNCTION_MASTER_KEY, `new_key_text` (same encodings) is required and the operator
// then updates the variable. Returns the box for the new key.
SecretBox rotate_master_key(Store& store, const KeySource& source, const SecretBox& current,
                            const std::optional<std::string>& new_key_text = std::nullopt);

// Parses 64 hex digits or base64 of 32 bytes. Throws Error(invalid_argument), never
// echoing the text.
MasterKey parse_master_key(std::string_view text, std::string_view where);

}  // namespace junction::core
