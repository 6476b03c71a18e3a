#include <junction/core/secrets/instance_secrets.hpp>

#include <junction/core/common/error.hpp>

#include <openssl/crypto.h>

namespace junction::core {

namespace {

// The value the connector sees for a field configured as `configured` ("" when not set).
ClearText current_value(const SecretBox& box, const std::string& id, const ClearText& configured,
                        const std::optional<RotatedSecret>& rotated) {
    if (!rotated) return configured;
    try {
        const ClearText base(box.open(id, rotated->base));
        if (same_secret(base.view(), configured.view())) return ClearText(box.open(id, rotated->value));
    } catch (const Error&) {
        // Sealed with a key that is gone: the configured value stands.
    }
    return configured;
}

std::optional<RotatedSecret> rotation_of(const InstanceRecord& record, const std::string& field) {
    for (const auto& r : record.rotated)
        if (r.field == field) return r;
    return std::nullopt;
}

}  // namespace

bool same_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::pair<std::string, ClearText>> open_instance_secrets(const SecretBox& box, const InstanceRecord& record) {
    std::vector<std::pair<std::string, ClearText>> out;
    for (const auto& sealed : record.secrets) {
        const ClearText configured(box.open(record.id, sealed));
        out.emplace_back(sealed.field, current_value(box, record.id, configured, rotation_of(record, sealed.field)));
    }
    // A credential the connector set where none was configured.
    for (const auto& r : record.rotated) {
        bool configured = false;
        for (const auto& sealed : record.secrets) configured = configured || sealed.field == r.field;
        if (configured) continue;
        ClearText value = current_value(box, record.id, ClearText(), r);
        if (!value.view().empty()) out.emplace_back(r.field, std::move(value));
    }
    return out;
}

std::optional<RotatedSecret> rotate_if_current(const SecretBox& box, const std::string& instance_id,
                                               const std::string& field, const std::optional<SealedSecret>& configured,
                                               const std::optional<RotatedSecret>& rotated, std::string_view expected,
                                               std::string_view value) {
    ClearText base;
    if (configured) {
        try {
            base = ClearText(box.open(instance_id, *configured));
        } catch (const Error&) {
            return std::nullopt;  // cannot be compared, so not replaced
        }
    }
    const ClearText now = current_value(box, instance_id, base, rotated);
    if (!same_secret(now.view(), expected)) return std::nullopt;
    return RotatedSecret{field, box.seal(instance_id, field + "#base", base.view()), box.seal(instance_id, field, value)};
}

std::optional<RotatedSecret> rebase_rotation(const SecretBox& box, const std::string& instance_id,
                                             const std::optional<SealedSecret>& before,
                                             const std::optional<SealedSecret>& after, const RotatedSecret& rotation) {
    try {
        const ClearText was(before ? box.open(instance_id, *before) : std::string());
        const ClearText base(box.open(instance_id, rotation.base));
        if (!same_secret(base.view(), was.view())) return std::nullopt;  // an operator's value had replaced it
        const ClearText now(after ? box.open(instance_id, *after) : std::string());
        if (same_secret(now.view(), was.view())) return std::nullopt;
        return RotatedSecret{rotation.field, box.seal(instance_id, rotation.field + "#base", now.view()), rotation.value};
    } catch (const Error&) {
        return std::nullopt;  // cannot be compared: left as it is
    }
}

}  // namespace junction::core
