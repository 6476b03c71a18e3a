#include <junction/core/marketplace/package_signature.hpp>

#include <junction/core/common/error.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <vector>

namespace junction::core {

namespace {

struct KeyDeleter { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
struct BioDeleter { void operator()(BIO* b) const { BIO_free(b); } };
struct MdDeleter { void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); } };
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Bio = std::unique_ptr<BIO, BioDeleter>;
using Md = std::unique_ptr<EVP_MD_CTX, MdDeleter>;

std::string message_for(std::string_view sha256_hex) {
    return "junction-package-v1:" + std::string(sha256_hex);
}

Bio memory_bio(std::string_view text) {
    return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(n));
}

std::string base64(const unsigned char* data, size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<size_t>(len));
    return out;
}

std::vector<unsigned char> unbase64(std::string_view text) {
    std::vector<unsigned char> out(3 * (text.size() / 4) + 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0 || text.size() % 4 != 0) return {};
    size_t len = static_cast<size_t>(n);
    for (size_t i = text.size(); i > 0 && len > 0 && text[i - 1] == '='; --i) --len;  // padding
    out.resize(len);
    return out;
}

}  // namespace

KeyPairPem generate_signing_key() {
    EVP_PKEY* raw = nullptr;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        throw Error(Errc::internal, "OpenSSL could not generate an Ed25519 key");
    Key key(raw);
    Bio priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    PEM_write_bio_PUBKEY(pub.get(), key.get());
    return {bio_text(priv.get()), bio_text(pub.get())};
}

std::string sign_package(std::string_view private_pem, std::string_view sha256_hex) {
    Bio bio = memory_bio(private_pem);
    Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
        throw Error(Errc::invalid_argument, "the signing key is not an Ed25519 private key in PEM");
    const std::string message = message_for(sha256_hex);
    unsigned char signature[64];
    size_t len = sizeof signature;
    Md md(EVP_MD_CTX_new());
    if (EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestSign(md.get(), signature, &len, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1)
        throw Error(Errc::internal, "OpenSSL could not sign the package");
    return base64(signature, len);
}

std::string public_key_id(std::string_view public_pem) {
    Bio bio = memory_bio(public_pem);
    Key key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    unsigned char raw[32];
    size_t len = sizeof raw;
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519 || EVP_PKEY_get_raw_public_key(key.get(), raw, &len) != 1)
        throw Error(Errc::invalid_argument, "not an Ed25519 public key in PEM");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_Digest(raw, len, md, &md_len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string id = "ed25519:";
    for (unsigned i = 0; i < 8; ++i) id += std::string{hex[md[i] >> 4], hex[md[i] & 0xf]};
    return id;
}

bool verify_package(std::string_view public_pem, std::string_view sha256_hex,
                    std::string_view signature_b64) {
    Bio bio = memory_bio(public_pem);
    Key key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
        throw Error(Errc::invalid_argument,
                    "the trusted marketplace key is not an Ed25519 public key in PEM");
    const auto signature = unbase64(signature_b64);
    if (signature.size() != 64) return false;
    const std::string message = message_for(sha256_hex);
    Md md(EVP_MD_CTX_new());
    return EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
           EVP_DigestVerify(md.get(), signature.data(), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

}  // namespace junction::core
