// Ed25519 signatures over connector packages (OpenSSL). What is signed is the text
// "junction-package-v1:" followed by the package's SHA-256 in hex: the signature covers
// every byte of the library, and the name and version inside its manifest with them.
#pragma once

#include <string>
#include <string_view>

namespace junction::core {

struct KeyPairPem {
    std::string private_pem;
    std::string public_pem;
};

KeyPairPem generate_signing_key();

// Returns the signature, base64.
std::string sign_package(std::string_view private_pem, std::string_view sha256_hex);

// A short name of a public key: "ed25519:" and the first 16 hex digits of the SHA-256 of
// its 32 raw bytes. Throws Error(invalid_argument) when `public_pem` is not one.
std::string public_key_id(std::string_view public_pem);

// True when `signature_b64` is a valid signature of the package by `public_pem`'s key.
// Throws Error(invalid_argument) when the public key itself cannot be read.
bool verify_package(std::string_view public_pem, std::string_view sha256_hex,
                    std::string_view signature_b64);

}  // namespace junction::core
