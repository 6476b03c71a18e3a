// The one order of incremental cursor values, shared by junctiond's flows and the SDK
// (core never includes the SDK; both include this, decision 0013): two numbers compare
// numerically, two ISO 8601 dates or date-times by instant, anything else byte by byte.
// A value is a record field's string as it is, or a number's JSON text.
#pragma once

#include <junction/json/utf8_writer.hpp>

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::json {

namespace detail {

// 1 or 2 digits at `at` (as "2024-9-5" or "2024-09-05" write them); advances `at`.
inline bool small_number(std::string_view s, size_t& at, int& out) {
    size_t n = 0;
    out = 0;
    while (at < s.size() && n < 2 && s[at] >= '0' && s[at] <= '9') out = out * 10 + (s[at++] - '0'), ++n;
    return n > 0;
}

inline bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
inline int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

inline std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace detail

// A decimal number as JSON writes one ("42", "-1.5", "2e3"), read without the C locale's
// help (a connector or a host that calls setlocale must not change the order); nullopt
// for anything else.
inline std::optional<long double> cursor_number(std::string_view s) {
    s = detail::trimmed(s);
    size_t at = 0;
    const bool negative = at < s.size() && s[at] == '-';
    if (negative) ++at;
    long double value = 0;
    size_t digits = 0;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') value = value * 10 + (s[at++] - '0'), ++digits;
    int exponent = 0;
    if (at < s.size() && s[at] == '.') {
        ++at;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') value = value * 10 + (s[at++] - '0'), --exponent, ++digits;
    }
    if (digits == 0 || digits > 40) return std::nullopt;
    if (at < s.size() && (s[at] == 'e' || s[at] == 'E')) {
        ++at;
        const bool minus = at < s.size() && s[at] == '-';
        if (at < s.size() && (s[at] == '-' || s[at] == '+')) ++at;
        int e = 0, n = 0;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9' && n < 5) e = e * 10 + (s[at++] - '0'), ++n;
        if (n == 0) return std::nullopt;
        exponent += minus ? -e : e;
    }
    if (at != s.size()) return std::nullopt;
    for (; exponent > 0; --exponent) value *= 10;
    for (; exponent < 0; ++exponent) value /= 10;
    return negative ? -value : value;
}

// An ISO 8601 date or date-time as milliseconds since the epoch: "2026-01-05",
// "2026-1-5 9:30", "2026-01-05T10:30:15.250Z", "2026-01-05 10:30:15+02:00", "...-0500",
// "...+05". Without an offset it is UTC. nullopt for anything else, or an impossible date.
inline std::optional<int64_t> cursor_instant_ms(std::string_view s) {
    s = detail::trimmed(s);
    if (s.size() < 8 || s[4] != '-') return std::nullopt;
    int64_t year = 0;
    for (size_t i = 0; i < 4; ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        year = year * 10 + (s[i] - '0');
    }
    size_t at = 5;
    int month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!detail::small_number(s, at, month) || at >= s.size() || s[at++] != '-' || !detail::small_number(s, at, day))
        return std::nullopt;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] + (month == 2 && detail::leap(year)))
        return std::nullopt;
    int64_t millis = 0;
    if (at < s.size()) {
        if (s[at] != 'T' && s[at] != ' ') return std::nullopt;
        ++at;
        if (!detail::small_number(s, at, hour) || at >= s.size() || s[at++] != ':' || !detail::small_number(s, at, minute) ||
            hour > 23 || minute > 59)
            return std::nullopt;
        if (at < s.size() && s[at] == ':') {
            ++at;
            if (!detail::small_number(s, at, second) || second > 60) return std::nullopt;
            if (at < s.size() && s[at] == '.') {
                const size_t first = ++at;
                int64_t scale = 100;
                for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, scale /= 10) millis += (s[at] - '0') * scale;
                if (at == first) return std::nullopt;
            }
        }
        int offset_minutes = 0;
        if (at < s.size()) {
            if (s[at] == 'Z' && at + 1 == s.size()) {
                ++at;
            } else if (s[at] == '+' || s[at] == '-') {
                const int sign = s[at] == '-' ? -1 : 1;
                ++at;
                int oh = 0, om = 0;
                if (at + 2 > s.size() || !detail::small_number(s, at, oh)) return std::nullopt;
                if (at < s.size() && s[at] == ':') ++at;
                if (at < s.size() && !detail::small_number(s, at, om)) return std::nullopt;
                if (at != s.size() || oh > 23 || om > 59) return std::nullopt;
                offset_minutes = sign * (oh * 60 + om);
            } else {
                return std::nullopt;
            }
        }
        millis -= static_cast<int64_t>(offset_minutes) * 60'000;
    }
    return detail::days_from_civil(year, month, day) * 86'400'000 + hour * 3'600'000LL + minute * 60'000LL +
           second * 1'000LL + millis;
}

// A record's cursor value: a string as it is, a number as its JSON text; "" for anything
// else (no cursor).
inline std::string cursor_text(const rapidjson::Value& value) {
    if (value.IsString()) return {value.GetString(), value.GetStringLength()};
    if (value.IsNumber()) return write(value);
    return {};
}

// Three-way order of two cursor values; negative when a is older.
inline int compare_cursor(std::string_view a, std::string_view b) {
    if (const auto x = cursor_number(a), y = cursor_number(b); x && y) return *x < *y ? -1 : (*x > *y ? 1 : 0);
    if (const auto x = cursor_instant_ms(a), y = cursor_instant_ms(b); x && y) return *x < *y ? -1 : (*x > *y ? 1 : 0);
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

}  // namespace junction::json
