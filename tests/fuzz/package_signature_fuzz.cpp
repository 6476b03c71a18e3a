// Fuzzes checking a package's signature with a fixed trusted key, as the marketplace and
// the signed-drop check do. Input: "<signature, base64>\n<package file bytes>"; the file's
// SHA-256 is what is signed.
#include <junction/core/common/error.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/marketplace/package_signature.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

// The public half of the key that signed the seeds in corpus/package_signature_fuzz
// (the private key is not kept: the seeds only need to stay valid for this key).
constexpr std::string_view kTrustedKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAQoXv5jbqFW6hvCLLJze1uOzYhH19QsQ+Pe4dJoR+1KA=\n"
    "-----END PUBLIC KEY-----\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const size_t newline = text.find('\n');
    const std::string_view signature = text.substr(0, newline);
    const std::string_view file = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    try {
        (void)junction::core::verify_package(kTrustedKey, junction::core::sha256_hex(file), signature);
        // The hex itself comes from the package index too (sha256 field): fuzz it as given.
        (void)junction::core::verify_package(kTrustedKey, file, signature);
    } catch (const junction::core::Error&) {
        std::abort();  // only an unreadable trusted key may throw, and this one is valid
    }
    return 0;
}
