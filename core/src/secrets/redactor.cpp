#include <junction/core/secrets/redactor.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/secrets/clear_text.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace junction::core {

namespace {

constexpr size_t kShortest = 4;  // shorter values are not redacted (see the header)

// A Rabin-Karp hash modulo the Mersenne prime 2^61 - 1, with a base drawn at random per
// process: a window of the text whose hash differs from every value's is no value.
constexpr uint64_t kPrime = (uint64_t{1} << 61) - 1;

uint64_t mod_mul(uint64_t a, uint64_t b) {
    const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
    const uint64_t low = static_cast<uint64_t>(product & kPrime);
    const uint64_t high = static_cast<uint64_t>(product >> 61);
    const uint64_t sum = low + high;
    return sum >= kPrime ? sum - kPrime : sum;
}

uint64_t mod_add(uint64_t a, uint64_t b) {
    const uint64_t sum = a + b;
    return sum >= kPrime ? sum - kPrime : sum;
}

struct ProcessKeys {
    uint64_t base = 0;
    std::array<unsigned char, 32> mac_key{};
    ProcessKeys() {
        uint64_t drawn = 0;
        if (RAND_bytes(mac_key.data(), static_cast<int>(mac_key.size())) != 1 ||
            RAND_bytes(reinterpret_cast<unsigned char*>(&drawn), sizeof drawn) != 1)
            throw std::runtime_error("the redactor found no random bytes");
        base = 256 + drawn % (kPrime - 512);
    }
};

const ProcessKeys& keys() {
    static const ProcessKeys k;
    return k;
}

// The top 16 of the hash's 61 bits: what a value keeps of its rolling hash.
uint16_t filter_of(uint64_t rolling) { return static_cast<uint16_t>(rolling >> 45); }

uint64_t rolling_hash(std::string_view text) {
    uint64_t h = 0;
    for (unsigned char c : text) h = mod_add(mod_mul(h, keys().base), c);
    return h;
}

std::array<unsigned char, 32> mac_of(std::string_view text) {
    std::array<unsigned char, 32> out{};
    unsigned int size = 0;
    HMAC(EVP_sha256(), keys().mac_key.data(), static_cast<int>(keys().mac_key.size()),
         reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data(), &size);
    return out;
}

}  // namespace

Redactor::Redactor(const std::vector<std::string>& values) {
    for (const auto& v : values) add(v);
}

void Redactor::add(std::string_view value) {
    if (value.size() < kShortest) return;
    values_.push_back({value.size(), filter_of(rolling_hash(value)), mac_of(value)});
}

void Redactor::add_instance(const SecretBox& secrets, const InstanceRecord& record) {
    for (const auto& s : record.secrets) {
        try {
            const ClearText value(secrets.open(record.id, s));
            add(value.view());
        } catch (const Error&) {
        }
    }
    for (const auto& r : record.rotated) {  // the connector's rotations too, current or not
        try {
            const ClearText value(secrets.open(record.id, r.value));
            add(value.view());
        } catch (const Error&) {
        }
    }
}

void Redactor::add_config(const rapidjson::Value& config, const std::vector<std::string>& secret_fields) {
    if (!config.IsObject()) return;
    for (const auto& field : secret_fields) {
        const auto it = config.FindMember(field.c_str());
        if (it != config.MemberEnd() && it->value.IsString())
            add(std::string_view(it->value.GetString(), it->value.GetStringLength()));
    }
}

// One pass over the text per distinct value length marks where each value occurs; every
// byte inside any occurrence is covered, so overlapping values (a client id inside its
// secret) leave nothing out, and each run of covered bytes becomes one "***".
std::string Redactor::apply(std::string text) const {
    if (values_.empty()) return text;
    std::vector<size_t> lengths;
    for (const auto& v : values_) lengths.push_back(v.length);
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());

    std::vector<size_t> match_length(text.size() + 1, 0);  // at each start, the longest match
    for (size_t length : lengths) {
        if (length > text.size()) break;
        uint64_t top = 1;  // base^(length-1), to take the leaving byte out
        for (size_t i = 1; i < length; ++i) top = mod_mul(top, keys().base);
        uint64_t h = rolling_hash(std::string_view(text).substr(0, length));
        for (size_t at = 0;; ++at) {
            for (const auto& v : values_) {
                if (v.length != length || v.filter != filter_of(h)) continue;
                const auto mac = mac_of(std::string_view(text).substr(at, length));
                if (CRYPTO_memcmp(mac.data(), v.mac.data(), mac.size()) == 0) {
                    match_length[at] = length;
                    break;
                }
            }
            if (at + length >= text.size()) break;
            const auto leaving = static_cast<unsigned char>(text[at]);
            const auto coming = static_cast<unsigned char>(text[at + length]);
            h = mod_add(h, kPrime - mod_mul(leaving, top));
            h = mod_add(mod_mul(h, keys().base), coming);
        }
    }
    std::string out;
    out.reserve(text.size());
    size_t covered_to = 0;  // one past the last byte inside an occurrence so far
    for (size_t at = 0; at < text.size(); ++at) {
        const bool in_run = at < covered_to;
        covered_to = std::max(covered_to, at + match_length[at]);
        if (at < covered_to) {
            if (!in_run) out += "***";
        } else {
            out += text[at];
        }
    }
    OPENSSL_cleanse(text.data(), text.size());  // the unredacted text goes now
    return out;
}

}  // namespace junction::core
