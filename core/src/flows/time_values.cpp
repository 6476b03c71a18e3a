#include <junction/core/flows/time_values.hpp>

#include <junction/json/cursor_order.hpp>

#include <cctz/time_zone.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <unordered_map>

namespace junction::core::flows {

namespace {

using Clock = std::chrono::system_clock;
using Ms = std::chrono::milliseconds;

// Whether `name` is UTC or a file of the tz database (where cctz reads zones from). cctz
// keeps every name it is asked to load, one that fails too, for the life of the process,
// and so did the map below: 200 flow documents naming 50 KB zones that do not exist kept
// 16 MiB. Only names that pass this reach either, so what they hold is bounded by the
// database's files.
bool tz_database_name(std::string_view name) {
    if (name == "UTC") return true;
    if (name.empty() || name.size() > 64 || name.front() == '/' || name.find("..") != std::string_view::npos)
        return false;
    for (const char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' && c != '+' && c != '.')
            return false;
    const char* dir = std::getenv("TZDIR");
    std::error_code ec;
    return std::filesystem::is_regular_file(
        std::filesystem::path(dir && *dir ? dir : "/usr/share/zoneinfo") / std::string(name), ec);
}

// Loading a zone reads a file; cctz caches them, the lookup here avoids the name check.
std::optional<cctz::time_zone> zone_named(std::string_view name) {
    static std::mutex mutex;
    static std::unordered_map<std::string, std::optional<cctz::time_zone>> zones;
    std::lock_guard lock(mutex);
    if (auto it = zones.find(std::string(name)); it != zones.end()) return it->second;
    if (!tz_database_name(name)) return std::nullopt;  // not kept: names from requests are unbounded
    auto [it, added] = zones.try_emplace(std::string(name));
    cctz::time_zone tz;
    if (cctz::load_time_zone(it->first, &tz)) it->second = tz;
    return it->second;
}

}  // namespace

bool known_time_zone(std::string_view name) { return zone_named(name).has_value(); }

std::optional<int64_t> parse_instant(std::string_view text, std::string_view format, std::string_view zone) {
    const auto tz = zone_named(zone);
    if (!tz) return std::nullopt;
    const std::string input(text);
    std::chrono::time_point<Clock, Ms> tp;
    if (!format.empty()) {
        if (!cctz::parse(std::string(format), input, *tz, &tp)) return std::nullopt;
        return tp.time_since_epoch().count();
    }
    // ISO 8601, most specific first. %Ez takes "+01:00", "-0500" and "Z".
    static const char* const iso[] = {"%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*S", "%Y-%m-%d %H:%M:%E*S%Ez",
                                      "%Y-%m-%d %H:%M:%E*S",    "%Y-%m-%dT%H:%M%Ez",    "%Y-%m-%dT%H:%M",
                                      "%Y-%m-%d"};
    for (const char* f : iso)
        if (cctz::parse(f, input, *tz, &tp)) return tp.time_since_epoch().count();
    return std::nullopt;
}

std::string format_instant(int64_t epoch_ms, std::string_view format, std::string_view zone) {
    const auto tz = zone_named(zone);
    const std::chrono::time_point<Clock, Ms> tp{Ms(epoch_ms)};
    return cctz::format(std::string(format), tp, tz ? *tz : cctz::utc_time_zone());
}

std::string format_instant_at_offset(int64_t epoch_ms, std::string_view format, int offset_seconds) {
    const std::chrono::time_point<Clock, Ms> tp{Ms(epoch_ms)};
    return cctz::format(std::string(format), tp, cctz::fixed_time_zone(std::chrono::seconds(offset_seconds)));
}

std::optional<int> stated_offset(std::string_view text) {
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (!text.empty() && (text.back() == 'Z' || text.back() == 'z'))
        return text.substr(0, text.size() - 1).find(':') == std::string_view::npos ? std::nullopt : std::optional<int>(0);
    // [+-]HH, [+-]HHMM or [+-]HH:MM at the end.
    auto digits = [](std::string_view d) {
        return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    for (const size_t length : {6u, 5u, 3u}) {
        if (text.size() <= length) continue;
        const std::string_view tail = text.substr(text.size() - length);
        if (tail[0] != '+' && tail[0] != '-') continue;
        std::string hhmm(tail.substr(1));
        if (length == 6) {
            if (hhmm[2] != ':') continue;
            hhmm.erase(2, 1);
        }
        if (!digits(hhmm)) continue;
        if (text.substr(0, text.size() - length).find(':') == std::string_view::npos) return std::nullopt;
        const int hours = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
        const int minutes = hhmm.size() == 4 ? (hhmm[2] - '0') * 10 + (hhmm[3] - '0') : 0;
        if (hours > 23 || minutes > 59) return std::nullopt;
        const int seconds = hours * 3600 + minutes * 60;
        return tail[0] == '-' ? -seconds : seconds;
    }
    return std::nullopt;
}

std::string cursor_text(const rapidjson::Value& v) { return json::cursor_text(v); }

// The one order, shared with the SDK, so a connector tracking its own cursor agrees.
int compare_cursor(std::string_view a, std::string_view b) { return json::compare_cursor(a, b); }

}  // namespace junction::core::flows
