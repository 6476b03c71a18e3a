// Incremental reads: how cursor values compare, and the newest one among the records a
// receive emits. The host orders cursors with this very code (flows keep the newest value
// at each checkpoint and pass it back as {"since": ...}), so a connector that tracks its
// own cursor agrees with the host on which record is newest. docs/plugin-abi.md, Cursors.
//
//   sdk::NewestCursor newest("updated_at");
//   for (const auto& record : page.GetArray()) newest.see(record);
//   host().state_set("cursor", newest.value());
#pragma once

#include <junction/sdk/json.hpp>

#include <rapidjson/pointer.h>

#include <cstdlib>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::sdk {

namespace detail {

inline bool digits(std::string_view s, size_t at, size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
inline int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

// A decimal number written as JSON writes one ("42", "-1.5", "2e3"); nullopt otherwise.
// (strtod on a checked text: std::from_chars for double is missing from older libc++.)
inline std::optional<double> cursor_number(std::string_view s) {
    if (s.empty() || s.size() > 64 || s.find_first_not_of("0123456789+-.eE") != std::string_view::npos)
        return std::nullopt;
    const std::string text(s);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) return std::nullopt;
    return v;
}

}  // namespace detail

// An ISO 8601 date or date-time as milliseconds since the epoch: "2026-01-05",
// "2026-01-05T10:30", "2026-01-05T10:30:15.250Z", "2026-01-05 10:30:15+02:00",
// "...-0500". Without an offset it is UTC. nullopt for anything else.
inline std::optional<int64_t> cursor_instant_ms(std::string_view s) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!detail::digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !detail::digits(s, 5, 2, month) ||
        s[7] != '-' || !detail::digits(s, 8, 2, day) || month < 1 || month > 12 || day < 1 || day > 31)
        return std::nullopt;
    size_t at = 10;
    int64_t millis = 0;
    if (at < s.size()) {
        if ((s[at] != 'T' && s[at] != ' ') || !detail::digits(s, at + 1, 2, hour) || at + 3 >= s.size() ||
            s[at + 3] != ':' || !detail::digits(s, at + 4, 2, minute) || hour > 23 || minute > 59)
            return std::nullopt;
        at += 6;
        if (at < s.size() && s[at] == ':') {
            if (!detail::digits(s, at + 1, 2, second) || second > 60) return std::nullopt;
            at += 3;
            if (at < s.size() && (s[at] == '.' || s[at] == ',')) {
                size_t i = at + 1;
                int64_t scale = 100;
                for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10)
                    millis += (s[i] - '0') * scale;
                if (i == at + 1) return std::nullopt;
                at = i;
            }
        }
        int offset_minutes = 0;
        if (at < s.size()) {
            if (s[at] == 'Z' && at + 1 == s.size()) {
                at += 1;
            } else if (s[at] == '+' || s[at] == '-') {
                int oh = 0, om = 0;
                if (!detail::digits(s, at + 1, 2, oh)) return std::nullopt;
                size_t next = at + 3;
                if (next < s.size() && s[next] == ':') ++next;
                if (next < s.size() && !detail::digits(s, next, 2, om)) return std::nullopt;
                if (next < s.size()) next += 2;
                if (next != s.size() || oh > 23 || om > 59) return std::nullopt;
                offset_minutes = (s[at] == '-' ? -1 : 1) * (oh * 60 + om);
                at = next;
            } else {
                return std::nullopt;
            }
        }
        if (at != s.size()) return std::nullopt;
        millis -= static_cast<int64_t>(offset_minutes) * 60'000;
    }
    return detail::days_from_civil(year, month, day) * 86'400'000 + hour * 3'600'000LL + minute * 60'000LL +
           second * 1'000LL + millis;
}

// Three-way order of two cursor values: both numbers numerically, both ISO 8601 dates or
// date-times by instant, otherwise byte by byte. Negative when a is older.
inline int compare_cursor(std::string_view a, std::string_view b) {
    if (const auto x = detail::cursor_number(a), y = detail::cursor_number(b); x && y)
        return *x < *y ? -1 : (*x > *y ? 1 : 0);
    if (const auto ia = cursor_instant_ms(a), ib = cursor_instant_ms(b); ia && ib)
        return *ia < *ib ? -1 : (*ia > *ib ? 1 : 0);
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

// A record's cursor value as the host keeps it: a string as it is, a number as its JSON
// text; "" for anything else (no cursor).
inline std::string cursor_text(const Json& value) {
    if (value.IsString()) return {value.GetString(), value.GetStringLength()};
    if (value.IsNumber()) return to_json(value);
    return {};
}

// The newest value of a record field ("updated_at", or a JSON pointer "/meta/updated") among
// the records seen, as the host will keep it.
class NewestCursor {
public:
    explicit NewestCursor(std::string_view field, std::string since = {})
        : path_(field.empty() || field.front() == '/' ? std::string(field) : "/" + std::string(field)),
          pointer_(path_.c_str(), path_.size()),
          newest_(std::move(since)) {}

    // Takes a record into account; true when it moved the cursor.
    bool see(const Json& record) {
        const Json* v = pointer_.IsValid() ? pointer_.Get(record) : nullptr;
        const std::string c = v ? cursor_text(*v) : std::string();
        if (c.empty() || (!newest_.empty() && compare_cursor(c, newest_) <= 0)) return false;
        newest_ = c;
        return true;
    }
    // "" until a record had the field (or the `since` given).
    const std::string& value() const { return newest_; }

private:
    std::string path_;
    rapidjson::Pointer pointer_;
    std::string newest_;
};

}  // namespace junction::sdk
