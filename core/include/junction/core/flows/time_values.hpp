// Instants and dates in named time zones (cctz reads the system's tz database): parsing
// ISO 8601 and strftime-style text, formatting, and the order of incremental cursors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::core::flows {

// Whether the tz database knows `name` ("UTC", "Europe/London", "America/New_York").
bool known_time_zone(std::string_view name);

// Milliseconds since the epoch. `format` empty means ISO 8601 (date, date-time with or
// without seconds, fraction, "Z" or offset); text without an offset is read in `zone`.
std::optional<int64_t> parse_instant(std::string_view text, std::string_view format = {},
                                     std::string_view zone = "UTC");
// strftime-style (with cctz's %E extensions) in `zone`.
std::string format_instant(int64_t epoch_ms, std::string_view format, std::string_view zone);

// Three-way order of two cursor values: both numbers -> numeric, both timestamps -> by
// instant, otherwise by bytes. Negative when a < b.
int compare_cursor(std::string_view a, std::string_view b);

}  // namespace junction::core::flows
