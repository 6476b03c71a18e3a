// Replaces known credential values in text by "***": the last line of defence for
// messages that come from plugins, run logs and errors, which may quote what they were
// given. Only values of 4 characters or more are replaced (shorter ones would mangle
// ordinary text without protecting anything).
//
// It keeps no value in clear: a redactor lives as long as its instance, so a copy in it
// would be in the daemon's memory for good. Each value is kept as its length, 16 bits of a
// rolling hash (to find candidate windows in one pass over the text; too few bits to narrow
// the value down) and an HMAC under a key of this process (to confirm a candidate). Like
// any hash, the HMAC can be tried against guesses: a short or dictionary password is found
// from a core that way, a generated key or token is not.
#pragma once

#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

class Redactor {
public:
    Redactor() = default;
    explicit Redactor(const std::vector<std::string>& values);
    // Adds the clear values of every credential of `record` (ones that fail to open are
    // skipped: they cannot leak).
    void add_instance(const SecretBox& secrets, const InstanceRecord& record);
    // Adds the string values of `config`'s `secret_fields` (a manifest's writeOnly fields):
    // for what has a config in clear but no stored record (a live instance, plugin-check).
    void add_config(const rapidjson::Value& config, const std::vector<std::string>& secret_fields);
    void add(std::string_view value);
    std::string apply(std::string text) const;

private:
    struct Fingerprint {
        size_t length = 0;
        uint16_t filter = 0;  // the rolling hash's top 16 bits
        std::array<unsigned char, 32> mac{};
    };
    std::vector<Fingerprint> values_;
};

}  // namespace junction::core
