#include "jwt.hpp"

#include <junction/sdk/error.hpp>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <memory>
#include <vector>

namespace junction::rest {

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using DigestContext = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSignature = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

[[noreturn]] void key_error(const std::string& why) {
    throw sdk::Error(JN_ERR_INVALID_CONFIG, "the instance's private_key " + why);
}

// JOSE wants ES256 signatures as the raw 32-byte R and S, not OpenSSL's DER.
std::string der_to_jose(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    EcdsaSignature sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig) key_error("produced an unreadable ECDSA signature");
    const BIGNUM *r = nullptr, *s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string out(64, '\0');
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    return out;
}

}  // namespace

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string base64url(std::string_view bytes) {
    std::string s = base64(bytes);
    for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!s.empty() && s.back() == '=') s.pop_back();
    return s;
}

std::string random_id() {
    unsigned char bytes[16];
    RAND_bytes(bytes, sizeof bytes);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 15]);
    }
    return out;
}

std::string sign_jwt(std::string_view header_json, std::string_view claims_json, std::string_view pem,
                     std::string_view algorithm) {
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) key_error("is not a PEM private key (-----BEGIN PRIVATE KEY-----)");
    const int type = EVP_PKEY_get_base_id(key.get());
    const bool ec = algorithm == "ES256";
    if (ec != (type == EVP_PKEY_EC) || (!ec && type != EVP_PKEY_RSA))
        key_error("does not fit " + std::string(algorithm) + ": use " + (ec ? "a P-256 EC key" : "an RSA key"));

    const std::string input = base64url(header_json) + "." + base64url(claims_json);
    DigestContext ctx(EVP_MD_CTX_new());
    size_t length = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) != 1)
        key_error("cannot sign with " + std::string(algorithm));
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
        key_error("cannot sign with " + std::string(algorithm));
    signature.resize(length);
    if (ec) signature = der_to_jose(signature);
    return input + "." + base64url(signature);
}

}  // namespace junction::rest
