#include <junction/core/secrets/secret_box.hpp>

#include <junction/core/common/error.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

namespace junction::core {

namespace {

constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;
constexpr std::string_view kCheckText = "junction master key check v1";
constexpr std::string_view kCheckAad = "junction:key-check";

struct CipherDeleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Cipher = std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter>;

std::string aad_for(std::string_view instance_id, std::string_view field) {
    std::string aad(instance_id);
    aad.push_back('\0');
    aad.append(field);
    return aad;
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::pair<std::string, std::string> seal_raw(const MasterKey& key, std::string_view aad,
                                             std::string_view plaintext) {
    std::string nonce(kNonce, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonce) != 1)
        throw Error(Errc::internal, "OpenSSL could not produce random bytes for a nonce");
    Cipher ctx(EVP_CIPHER_CTX_new());
    std::string out(plaintext.size() + kTag, '\0');
    int len = 0, total = 0;
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    const bool ok =
        ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), bytes(nonce)) == 1 &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1 &&
        EVP_EncryptUpdate(ctx.get(), o, &len, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
        (total = len, EVP_EncryptFinal_ex(ctx.get(), o + total, &len) == 1) &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + plaintext.size()) == 1;
    if (!ok) throw Error(Errc::internal, "OpenSSL could not encrypt a credential");
    return {nonce, out};
}

std::optional<std::string> open_raw(const MasterKey& key, std::string_view aad,
                                    std::string_view nonce, std::string_view sealed) {
    if (nonce.size() != kNonce || sealed.size() < kTag) return std::nullopt;
    const size_t n = sealed.size() - kTag;
    Cipher ctx(EVP_CIPHER_CTX_new());
    std::string out(n, '\0');
    int len = 0;
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    std::string tag(sealed.substr(n));
    const bool ok =
        ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), bytes(nonce)) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), o, &len, bytes(sealed), static_cast<int>(n)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), o + len, &len) == 1;
    if (!ok) {
        OPENSSL_cleanse(out.data(), out.size());
        return std::nullopt;
    }
    return out;
}

}  // namespace

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

SealedSecret SecretBox::seal(std::string_view instance_id, std::string_view field,
                             std::string_view plaintext) const {
    auto [nonce, ct] = seal_raw(key_, aad_for(instance_id, field), plaintext);
    return {std::string(field), std::move(nonce), std::move(ct)};
}

std::string SecretBox::open(std::string_view instance_id, const SealedSecret& sealed) const {
    auto clear = open_raw(key_, aad_for(instance_id, sealed.field), sealed.nonce, sealed.ciphertext);
    if (!clear)
        throw Error(Errc::invalid_argument,
                    "credential field '" + sealed.field + "' of instance " +
                        std::string(instance_id) +
                        " cannot be decrypted with the current master key (wrong key, or the "
                        "stored value was altered)");
    return std::move(*clear);  // a copy would leave the clear value in freed memory
}

std::string SecretBox::make_key_check() const {
    auto [nonce, ct] = seal_raw(key_, kCheckAad, kCheckText);
    return nonce + ct;
}

bool SecretBox::matches_key_check(std::string_view check) const {
    if (check.size() < kNonce) return false;
    auto clear = open_raw(key_, kCheckAad, check.substr(0, kNonce), check.substr(kNonce));
    return clear && *clear == kCheckText;
}

}  // namespace junction::core
