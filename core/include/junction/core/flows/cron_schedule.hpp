// A 5-field cron expression (minute hour day-of-month month day-of-week) in a named time
// zone: "*/15 * * * *", "0 6 * * mon-fri" in "Europe/London". Lists, ranges, steps and
// month/day names; when both day fields are restricted a day matching either fires (as in
// Vixie cron). Times skipped by a DST change fire at the first instant after the gap.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::core::flows {

class CronSchedule {
public:
    // Throws Error(invalid_argument) saying which field is wrong and why.
    static CronSchedule parse(std::string_view expression, std::string_view time_zone);

    // The first firing strictly after `after_ms` (epoch milliseconds); nullopt when none
    // within five years (e.g. "0 0 30 2 *").
    std::optional<int64_t> next_after(int64_t after_ms) const;

    const std::string& expression() const { return expression_; }
    const std::string& time_zone() const { return zone_; }

private:
    std::string expression_, zone_;
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_;    // 1..31
    std::bitset<13> months_;  // 1..12
    std::bitset<7> weekdays_;  // 0 = Sunday
    bool days_restricted_ = false, weekdays_restricted_ = false;
};

}  // namespace junction::core::flows
