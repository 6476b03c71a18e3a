#include <junction/core/marketplace/trusted_keys.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/marketplace/package_signature.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

constexpr std::streamsize kMaxKeyBytes = 16 * 1024;  // a PEM public key is a few hundred bytes

TrustedKey read_key(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(Errc::invalid_argument, "cannot read the trusted key " + file.string());
    std::string pem(static_cast<size_t>(kMaxKeyBytes), '\0');
    in.read(pem.data(), kMaxKeyBytes);
    pem.resize(static_cast<size_t>(in.gcount()));
    try {
        return {public_key_id(pem), file.filename().string(), pem};
    } catch (const Error&) {
        throw Error(Errc::invalid_argument, "the trusted key " + file.string() +
                                                " is not an Ed25519 public key in PEM (junction-publish keygen writes one)");
    }
}

}  // namespace

TrustedKeys TrustedKeys::read(const fs::path& key_file, const fs::path& folder) {
    TrustedKeys out;
    if (!key_file.empty()) out.keys_.push_back(read_key(key_file));
    std::error_code ec;
    if (folder.empty() || !fs::is_directory(folder, ec)) return out;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(folder, ec))
        if (e.is_regular_file() && (e.path().extension() == ".pem" || e.path().extension() == ".pub"))
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        TrustedKey key = read_key(f);
        const bool known = std::any_of(out.keys_.begin(), out.keys_.end(), [&](const TrustedKey& k) { return k.id == key.id; });
        if (!known) out.keys_.push_back(std::move(key));
    }
    return out;
}

std::optional<PackageSigner> TrustedKeys::signer_of(std::string_view sha256_hex, std::string_view signature_b64) const {
    for (const auto& key : keys_)
        if (verify_package(key.public_pem, sha256_hex, signature_b64)) return PackageSigner{key.id, key.file, std::string(signature_b64)};
    return std::nullopt;
}

}  // namespace junction::core
