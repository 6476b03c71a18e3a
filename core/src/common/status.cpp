#include <junction/core/common/status.hpp>

namespace junction::core {

static const char* known_name(jn_status status) {
    switch (status) {
        case JN_OK: return "ok";
        case JN_ERR_RATE_LIMITED: return "rate_limited";
        case JN_ERR_TRANSIENT: return "transient";
        case JN_ERR_TIMEOUT: return "timeout";
        case JN_ERR_AUTH: return "auth";
        case JN_ERR_INVALID_CONFIG: return "invalid_config";
        case JN_ERR_NOT_FOUND: return "not_found";
        case JN_ERR_INVALID_REQUEST: return "invalid_request";
        case JN_ERR_UNSUPPORTED: return "unsupported";
        case JN_ERR_INTERNAL: return "internal";
        case JN_ERR_CANCELLED: return "cancelled";
        case JN_ERR_TOO_LARGE: return "too_large";
        case JN_ERR_CONFLICT: return "conflict";
        default: return nullptr;
    }
}

bool is_known_status(jn_status status) { return known_name(status) != nullptr; }

std::string status_name(jn_status status) {
    const char* name = known_name(status);
    return name ? name : "unknown(" + std::to_string(status) + ")";
}

}  // namespace junction::core
