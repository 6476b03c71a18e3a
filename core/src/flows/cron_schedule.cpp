#include <junction/core/flows/cron_schedule.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/flows/time_values.hpp>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <sstream>
#include <vector>

namespace junction::core::flows {

namespace {

struct Field {
    const char* name;
    int low, high;
    std::vector<std::string_view> names;  // index + low is the value
};

int value_of(std::string_view token, const Field& f, const std::string& expression) {
    std::string lower(token);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    for (size_t i = 0; i < f.names.size(); ++i)
        if (f.names[i] == lower) return f.low + static_cast<int>(i);
    int v = 0;
    for (char c : token) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || token.size() > 2)
            throw Error(Errc::invalid_argument, "cron '" + expression + "': '" + std::string(token) +
                                                    "' is not a valid " + f.name);
        v = v * 10 + (c - '0');
    }
    if (token.empty() || v < f.low || v > f.high + (std::string_view(f.name) == "day of week" ? 1 : 0))
        throw Error(Errc::invalid_argument, "cron '" + expression + "': " + f.name + " must be " +
                                                std::to_string(f.low) + "-" + std::to_string(f.high) + ", not '" +
                                                std::string(token) + "'");
    return v;
}

// Sets the bits of one field; returns whether it restricts anything ("*" does not).
template <size_t N>
bool parse_field(std::string_view text, const Field& f, std::bitset<N>& bits, const std::string& expression) {
    bool restricted = false;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        std::string_view part = text.substr(start, comma - start);
        int step = 1;
        if (auto slash = part.find('/'); slash != std::string_view::npos) {
            const std::string_view s = part.substr(slash + 1);
            step = 0;
            for (char c : s)  // -1 once not a number (or too large) and stays so
                step = step >= 0 && std::isdigit(static_cast<unsigned char>(c)) && step < 1000 ? step * 10 + (c - '0') : -1;
            if (s.empty() || step <= 0)
                throw Error(Errc::invalid_argument, "cron '" + expression + "': step '" + std::string(s) + "' in the " +
                                                        f.name + " field must be a positive number");
            part = part.substr(0, slash);
        }
        int from = f.low, to = f.high;
        if (part == "*") {
            restricted = restricted || step != 1;
        } else {
            restricted = true;
            const auto dash = part.find('-');
            from = value_of(part.substr(0, dash), f, expression);
            to = dash == std::string_view::npos ? (step == 1 ? from : f.high) : value_of(part.substr(dash + 1), f, expression);
            if (to < from)
                throw Error(Errc::invalid_argument, "cron '" + expression + "': the range '" + std::string(part) +
                                                        "' in the " + f.name + " field runs backwards");
        }
        for (int v = from; v <= to; v += step) bits.set(static_cast<size_t>(N == 7 ? v % 7 : v));  // 7 = Sunday too
        start = comma + 1;
    }
    return restricted;
}

}  // namespace

CronSchedule CronSchedule::parse(std::string_view expression, std::string_view time_zone) {
    CronSchedule c;
    c.expression_ = std::string(expression);
    c.zone_ = time_zone.empty() ? "UTC" : std::string(time_zone);
    cctz::time_zone tz;
    // known_time_zone first: cctz would keep a name it fails to load for good.
    if (!known_time_zone(c.zone_) || !cctz::load_time_zone(c.zone_, &tz))
        throw Error(Errc::invalid_argument, "'" + c.zone_ + "' is not a time zone of the tz database (e.g. UTC, Europe/London)");
    std::istringstream in(c.expression_);
    std::vector<std::string> parts;
    for (std::string p; in >> p;) parts.push_back(p);
    if (parts.size() != 5)
        throw Error(Errc::invalid_argument, "cron '" + c.expression_ + "' has " + std::to_string(parts.size()) +
                                                " fields; write 5: minute hour day-of-month month day-of-week");
    static const Field minute{"minute", 0, 59, {}}, hour{"hour", 0, 23, {}}, day{"day of month", 1, 31, {}},
        month{"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
        weekday{"day of week", 0, 6, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};
    parse_field(parts[0], minute, c.minutes_, c.expression_);
    parse_field(parts[1], hour, c.hours_, c.expression_);
    c.days_restricted_ = parse_field(parts[2], day, c.days_, c.expression_);
    parse_field(parts[3], month, c.months_, c.expression_);
    c.weekdays_restricted_ = parse_field(parts[4], weekday, c.weekdays_, c.expression_);  // 7 folds to 0
    return c;
}

std::optional<int64_t> CronSchedule::next_after(int64_t after_ms) const {
    using namespace std::chrono;
    cctz::time_zone tz;
    cctz::load_time_zone(zone_, &tz);
    const time_point<system_clock, seconds> after{duration_cast<seconds>(milliseconds(after_ms))};
    // The next whole minute after `after`, in the zone's wall time; walk day, hour, minute.
    cctz::civil_minute t = cctz::civil_minute(tz.lookup(after).cs) + 1;
    const cctz::civil_minute limit = t + 5 * 366 * 24 * 60;
    auto day_matches = [&](const cctz::civil_day& d) {
        const bool dom = days_.test(static_cast<size_t>(d.day()));
        const auto wd = cctz::get_weekday(d);
        const int sunday_first = wd == cctz::weekday::sunday ? 0 : static_cast<int>(wd) + 1;
        const bool dow = weekdays_.test(static_cast<size_t>(sunday_first));
        if (days_restricted_ && weekdays_restricted_) return dom || dow;
        return dom && dow;
    };
    while (t < limit) {
        if (!months_.test(static_cast<size_t>(t.month()))) {
            t = cctz::civil_minute(cctz::civil_month(t) + 1);
            continue;
        }
        if (!day_matches(cctz::civil_day(t))) {
            t = cctz::civil_minute(cctz::civil_day(t) + 1);
            continue;
        }
        if (!hours_.test(static_cast<size_t>(t.hour()))) {
            t = cctz::civil_minute(cctz::civil_hour(t) + 1);
            continue;
        }
        if (!minutes_.test(static_cast<size_t>(t.minute()))) {
            t += 1;
            continue;
        }
        const auto fire = tz.lookup(t);
        // A skipped wall time (DST gap) fires at the transition; a repeated one, the first time.
        const auto at = fire.kind == cctz::time_zone::civil_lookup::SKIPPED ? fire.trans : fire.pre;
        const int64_t ms = duration_cast<milliseconds>(at.time_since_epoch()).count();
        if (ms > after_ms) return ms;
        t += 1;
    }
    return std::nullopt;
}

}  // namespace junction::core::flows
