// Identifiers, tokens and wall-clock stamps: the few helpers every service needs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace junction::core {

// `prefix` followed by 16 random hex digits: "inst_3f9c...", "run_...". Never reused.
std::string random_id(std::string_view prefix);
// `bytes` random bytes as hex, for secrets handed out once (webhook URLs).
std::string random_token(size_t bytes);
std::string sha256_hex(std::string_view data);
// Compares in time independent of where the inputs differ (secrets, their digests).
bool equal_constant_time(std::string_view a, std::string_view b);
// Milliseconds since the Unix epoch.
int64_t now_ms();

}  // namespace junction::core
