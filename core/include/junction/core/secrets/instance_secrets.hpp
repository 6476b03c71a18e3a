// An instance's credentials in clear, as its connector should see them: each configured
// value, or the connector's own rotation of it (Store::rotate_secret) while the configured
// value is still the one it was rotated from. The one place that decides which wins.
#pragma once

#include <junction/core/secrets/clear_text.hpp>
#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace junction::core {

// Every credential field of `record` with its current value. Throws Error when a configured
// value does not open (the wrong key); a rotation that does not open is passed over.
std::vector<std::pair<std::string, ClearText>> open_instance_secrets(const SecretBox& box, const InstanceRecord& record);

// Compares two credentials without telling, by its timing, how much of them matched.
bool same_secret(std::string_view a, std::string_view b);

// What a rotation of `field` to `value` stores, when the current value (configured, or
// rotated from it) is `expected`; nullopt when it is not. For Store::rotate_secret.
std::optional<RotatedSecret> rotate_if_current(const SecretBox& box, const std::string& instance_id,
                                               const std::string& field, const std::optional<SealedSecret>& configured,
                                               const std::optional<RotatedSecret>& rotated, std::string_view expected,
                                               std::string_view value);

// For Store::commit_version_switch: a rotation that stood for the value configured `before`
// stands for the one configured `after` (a migration or a restore is not an operator
// re-authorising); nullopt when it did not apply before, or nothing changed.
std::optional<RotatedSecret> rebase_rotation(const SecretBox& box, const std::string& instance_id,
                                             const std::optional<SealedSecret>& before,
                                             const std::optional<SealedSecret>& after, const RotatedSecret& rotation);

}  // namespace junction::core
