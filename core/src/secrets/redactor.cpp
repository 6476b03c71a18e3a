#include <junction/core/secrets/redactor.hpp>

#include <junction/core/common/error.hpp>

namespace junction::core {

Redactor::Redactor(std::vector<std::string> values) : values_(std::move(values)) {}

void Redactor::add_instance(const SecretBox& secrets, const InstanceRecord& record) {
    for (const auto& s : record.secrets) {
        try {
            values_.push_back(secrets.open(record.id, s));
        } catch (const Error&) {
        }
    }
}

std::string Redactor::apply(std::string text) const {
    for (const auto& s : values_) {
        if (s.size() < 4) continue;
        for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at)) text.replace(at, s.size(), "***");
    }
    return text;
}

}  // namespace junction::core
