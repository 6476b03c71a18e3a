// Replaces known credential values in text by "***": the last line of defence for
// messages that come from plugins, run logs and errors, which may quote what they were
// given. Only values of 4 characters or more are replaced (shorter ones would mangle
// ordinary text without protecting anything). Its values are wiped when it goes
// (clear_text.hpp).
#pragma once

#include <junction/core/secrets/clear_text.hpp>
#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace junction::core {

class Redactor {
public:
    Redactor() = default;
    explicit Redactor(std::vector<std::string> values);
    // Adds the clear values of every credential of `record` (ones that fail to open are
    // skipped: they cannot leak).
    void add_instance(const SecretBox& secrets, const InstanceRecord& record);
    // Adds the string values of `config`'s `secret_fields` (a manifest's writeOnly fields):
    // for what has a config in clear but no stored record (a live instance, plugin-check).
    void add_config(const rapidjson::Value& config, const std::vector<std::string>& secret_fields);
    std::string apply(std::string text) const;

private:
    std::vector<ClearText> values_;
};

}  // namespace junction::core
