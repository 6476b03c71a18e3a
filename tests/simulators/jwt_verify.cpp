// The token endpoint's side of RFC 7523: is this assertion signed by the registered key?
#include "sim_api.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace junction::sim {

namespace {

std::string base64url_decode(std::string s) {
    for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (s.size() % 4) s.push_back('=');
    std::string out(s.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
    if (n < 0) return {};
    size_t pad = 0;
    while (pad < 2 && !s.empty() && s[s.size() - 1 - pad] == '=') ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

// JOSE's raw R||S back to DER for OpenSSL.
std::string jose_to_der(const std::string& raw) {
    if (raw.size() != 64) return {};
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
    unsigned char* der = nullptr;
    const int n = i2d_ECDSA_SIG(sig, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return out;
}

}  // namespace

bool verify_jwt(const std::string& jwt, const std::string& pem, std::string& claims, std::string& why) {
    const size_t a = jwt.find('.'), b = jwt.find('.', a + 1);
    if (a == std::string::npos || b == std::string::npos) {
        why = "not a JWT";
        return false;
    }
    const std::string header = base64url_decode(jwt.substr(0, a));
    std::string signature = base64url_decode(jwt.substr(b + 1));
    const bool ec = header.find("\"ES256\"") != std::string::npos;
    if (ec) signature = jose_to_der(signature);

    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!key) {
        why = "the simulator has no readable public key";
        return false;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const std::string input = jwt.substr(0, b);
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    if (!ok) {
        why = "the assertion's signature does not verify with the registered certificate";
        return false;
    }
    claims = base64url_decode(jwt.substr(a + 1, b - a - 1));
    return true;
}

}  // namespace junction::sim
