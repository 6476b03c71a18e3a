// Instants and dates in named time zones (cctz reads the system's tz database): parsing
// ISO 8601 and strftime-style text, formatting, and the order of incremental cursors.
#pragma once

#include <rapidjson/document.h>

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
// The same at a fixed offset from UTC, in seconds east.
std::string format_instant_at_offset(int64_t epoch_ms, std::string_view format, int offset_seconds);

// The UTC offset a date-time text states at its end ("Z", "+05:30", "-0300", "+05"), in
// seconds east; nullopt when it states none. Only after a time (a ':' before it), so the
// day of "2024-01-05" is not read as an offset of -5 hours.
std::optional<int> stated_offset(std::string_view text);

// Three-way order of two cursor values: both numbers -> numeric, both timestamps -> by
// instant, otherwise by bytes. Negative when a < b.
int compare_cursor(std::string_view a, std::string_view b);

// A record's cursor value as flows keep and compare it: a string as it is, a number as its
// JSON text; "" for anything else (no cursor).
std::string cursor_text(const rapidjson::Value& value);

}  // namespace junction::core::flows
