// The one exception type a connector throws to fail a call with a specific ABI status.
// The SDK turns it (and any other exception) into a status code and a message; nothing
// ever propagates across the ABI.
#pragma once

#include <junction/plugin_api.h>

#include <stdexcept>
#include <string>

namespace junction::sdk {

class Error : public std::runtime_error {
public:
    Error(jn_status status, const std::string& message)
        : std::runtime_error(message), status_(status) {}

    jn_status status() const noexcept { return status_; }
    bool retryable() const noexcept { return JN_STATUS_IS_RETRYABLE(status_); }

private:
    jn_status status_;
};

// Shorthands for the failures connectors report most.
inline Error auth_error(const std::string& m) { return Error(JN_ERR_AUTH, m); }
inline Error config_error(const std::string& m) { return Error(JN_ERR_INVALID_CONFIG, m); }
inline Error request_error(const std::string& m) { return Error(JN_ERR_INVALID_REQUEST, m); }
inline Error transient_error(const std::string& m) { return Error(JN_ERR_TRANSIENT, m); }

}  // namespace junction::sdk
