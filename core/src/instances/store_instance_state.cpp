#include <junction/core/instances/store_instance_state.hpp>

#include <junction/core/secrets/instance_secrets.hpp>

#include <algorithm>

namespace junction::core {

bool StoreInstanceState::is_secret(std::string_view name) const {
    return std::find(secret_fields_.begin(), secret_fields_.end(), name) != secret_fields_.end();
}

jn_status StoreInstanceState::credential(std::string_view name, std::string& value) {
    if (!is_secret(name)) return JN_ERR_INVALID_REQUEST;
    const auto record = store_.find_instance(id_);
    if (!record || record->id != id_) return JN_ERR_NOT_FOUND;  // found by id, never by a name
    for (const auto& [field, clear] : open_instance_secrets(secrets_, *record)) {
        if (field != name) continue;
        value.assign(clear.view());
        return JN_OK;
    }
    return JN_ERR_NOT_FOUND;
}

jn_status StoreInstanceState::swap_credential(std::string_view name, std::string_view expected,
                                              std::string_view value) {
    if (!is_secret(name)) return JN_ERR_INVALID_REQUEST;
    const std::string field(name);
    const bool stored = store_.rotate_secret(
        id_, field, [&](const std::optional<SealedSecret>& configured, const std::optional<RotatedSecret>& rotated) {
            return rotate_if_current(secrets_, id_, field, configured, rotated, expected, value);
        });
    return stored ? JN_OK : JN_ERR_CONFLICT;
}

}  // namespace junction::core
