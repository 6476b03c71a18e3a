// The one error type of core: what kind of failure, a message for a person (what was
// wrong and what to do), and where it happened.
#pragma once

#include <junction/plugin_api.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace junction::core {

enum class Errc {
    invalid_argument,  // the caller gave something unusable
    not_found,
    already_exists,
    conflict,          // someone else changed it since the caller read it: re-read, retry
    plugin_rejected,   // a package was refused at install/load time
    plugin_failed,     // a loaded plugin's call failed (see plugin_status)
    io,
    internal,
};

const char* errc_name(Errc code);

class Error : public std::runtime_error {
public:
    Error(Errc code, std::string message, std::string context = {},
          jn_status plugin_status = JN_OK);

    // Item-by-item reasons behind the message (e.g. one per invalid config field).
    Error& with_details(std::vector<std::string> details) {
        details_ = std::move(details);
        return *this;
    }
    const std::vector<std::string>& details() const noexcept { return details_; }

    Errc code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }
    const std::string& context() const noexcept { return context_; }
    // For plugin_failed: the ABI status the plugin returned (JN_OK otherwise).
    jn_status plugin_status() const noexcept { return plugin_status_; }
    bool retryable() const noexcept { return JN_STATUS_IS_RETRYABLE(plugin_status_); }

private:
    Errc code_;
    std::string message_;
    std::string context_;
    jn_status plugin_status_;
    std::vector<std::string> details_;
};

}  // namespace junction::core
