#include <junction/core/marketplace/package_trust.hpp>

#include <junction/core/common/error.hpp>

#include <fstream>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxSignatureBytes = 1024;  // an Ed25519 signature is 88 characters of base64

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

std::optional<std::string> read_signature_file(const fs::path& sig) {
    std::ifstream in(sig, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text(kMaxSignatureBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxSignatureBytes)
        throw Error(Errc::plugin_rejected, "the signature file is larger than a signature; write the one line "
                                           "junction-publish sign makes",
                    sig.filename().string());
    return trim(std::move(text));
}

TrustedKeys PackageTrust::keys() const {
    return TrustedKeys::read(settings_.marketplace_key, settings_.trusted_keys_folder);
}

PackageSigner PackageTrust::check(const std::string& sha256, const std::optional<std::string>& signature,
                                  const std::string& subject, const std::string& unsigned_hint) const {
    TrustedKeys trusted;
    try {
        trusted = keys();
    } catch (const Error& e) {
        throw Error(Errc::plugin_rejected, e.message() + "; no package is checked until it is fixed", subject);
    }
    if (!signature) {
        if (settings_.allow_unsigned) return {};
        if (trusted.empty())
            throw Error(Errc::plugin_rejected,
                        std::string("unsigned packages are not allowed and no marketplace-key is configured (nor a "
                                    "trusted-keys folder) to check signatures; set marketplace-key or trusted-keys, or ") +
                            settings_.allow_unsigned_setting + " = true",
                        subject);
        throw Error(Errc::plugin_rejected,
                    "the package is not signed (" + unsigned_hint + "); sign it with junction-publish, or allow "
                    "unsigned packages with " + settings_.allow_unsigned_setting + " = true",
                    subject);
    }
    if (trusted.empty()) {
        if (settings_.allow_unsigned) return {};  // nothing to check it against: it installs as unsigned
        throw Error(Errc::plugin_rejected,
                    "no trusted key is configured to check the package's signature; set marketplace-key or "
                    "trusted-keys",
                    subject);
    }
    if (auto signer = trusted.signer_of(sha256, *signature)) return *signer;
    throw Error(Errc::plugin_rejected,
                "the package's signature was not made by a trusted key (" + std::to_string(trusted.keys().size()) +
                    " trusted: marketplace-key and trusted-keys); refusing it",
                subject);
}

PackageSigner PackageTrust::check_file(const fs::path& file, const std::string& sha256) const {
    const fs::path sig = signature_path(file);
    return check(sha256, read_signature_file(sig), file.filename().string(), "no " + sig.filename().string());
}

ConnectorRegistry::PackageCheck PackageTrust::check_upload(std::optional<std::string> signature) const {
    return [this, signature = std::move(signature)](const std::string& file_name, const std::string& sha256) {
        return check(sha256, signature, file_name, "no signature was uploaded with it; send it with --sig");
    };
}

}  // namespace junction::core
