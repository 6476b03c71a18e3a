#include <junction/core/secrets/redactor.hpp>

#include <junction/core/common/error.hpp>

namespace junction::core {

Redactor::Redactor(std::vector<std::string> values) {
    for (auto& v : values) values_.emplace_back(std::move(v));
}

void Redactor::add_instance(const SecretBox& secrets, const InstanceRecord& record) {
    for (const auto& s : record.secrets) {
        try {
            values_.emplace_back(secrets.open(record.id, s));
        } catch (const Error&) {
        }
    }
}

void Redactor::add_config(const rapidjson::Value& config, const std::vector<std::string>& secret_fields) {
    if (!config.IsObject()) return;
    for (const auto& field : secret_fields) {
        const auto it = config.FindMember(field.c_str());
        if (it != config.MemberEnd() && it->value.IsString())
            values_.emplace_back(std::string(it->value.GetString(), it->value.GetStringLength()));
    }
}

std::string Redactor::apply(std::string text) const {
    for (const auto& value : values_) {
        const std::string& s = value.str();
        if (s.size() < 4) continue;
        for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at)) text.replace(at, s.size(), "***");
    }
    return text;
}

}  // namespace junction::core
