#include <junction/core/common/error.hpp>

namespace junction::core {

const char* errc_name(Errc code) {
    switch (code) {
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::not_found: return "not_found";
        case Errc::already_exists: return "already_exists";
        case Errc::conflict: return "conflict";
        case Errc::plugin_rejected: return "plugin_rejected";
        case Errc::plugin_failed: return "plugin_failed";
        case Errc::io: return "io";
        case Errc::internal: return "internal";
    }
    return "internal";
}

static std::string compose(const std::string& message, const std::string& context) {
    return context.empty() ? message : context + ": " + message;
}

Error::Error(Errc code, std::string message, std::string context, jn_status plugin_status)
    : std::runtime_error(compose(message, context)),
      code_(code),
      message_(std::move(message)),
      context_(std::move(context)),
      plugin_status_(plugin_status) {}

}  // namespace junction::core
