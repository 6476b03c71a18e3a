// An instance's plugin state and credentials, kept in the store: the state as the plugin
// wrote it, the credentials sealed like every other secret setting of the instance.
#pragma once

#include <junction/core/instances/instance_state.hpp>
#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>

#include <string>
#include <vector>

namespace junction::core {

class StoreInstanceState final : public InstanceState {
public:
    // `secret_fields`: the connector's writeOnly settings, the only credentials it may read
    // or replace.
    StoreInstanceState(Store& store, const SecretBox& secrets, std::string instance_id,
                       std::vector<std::string> secret_fields)
        : store_(store), secrets_(secrets), id_(std::move(instance_id)), secret_fields_(std::move(secret_fields)) {}

    std::optional<std::string> get(std::string_view key) override { return store_.state_get(id_, key); }
    void set(std::string_view key, std::string_view value) override { store_.state_set(id_, key, value); }
    void erase(std::string_view key) override { store_.state_delete(id_, key); }

    jn_status credential(std::string_view name, std::string& value) override;
    // One store transaction (Store::rotate_secret): the compare and the write. The rotation
    // stands for the configured value it was made from, until an operator sets another.
    jn_status swap_credential(std::string_view name, std::string_view expected, std::string_view value) override;

private:
    bool is_secret(std::string_view name) const;

    Store& store_;
    const SecretBox& secrets_;
    std::string id_;
    std::vector<std::string> secret_fields_;
};

}  // namespace junction::core
