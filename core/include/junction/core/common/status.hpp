// The ABI status codes as the host understands them: names for people, and a check that a
// plugin returned a value the ABI defines.
#pragma once

#include <junction/plugin_api.h>

#include <string>

namespace junction::core {

// True for every status ABI 1.x defines.
bool is_known_status(jn_status status);

// A short name: "ok", "auth", "rate_limited"... or "unknown(N)".
std::string status_name(jn_status status);

}  // namespace junction::core
