// Fuzzes a schedule trigger: a cron expression in a named time zone, parsed, then its next
// firings. Input (text, so seeds stay readable): "<time zone>\n<expression>[\n<after ms>]".
#include <junction/core/common/error.hpp>
#include <junction/core/flows/cron_schedule.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    const size_t first = text.find('\n');
    if (first == std::string_view::npos) return 0;
    const std::string_view zone = text.substr(0, first);
    text.remove_prefix(first + 1);
    const size_t second = text.find('\n');
    const std::string_view expression = text.substr(0, second);
    int64_t after_ms = 1'780'000'000'000;  // mid-2026
    if (second != std::string_view::npos) {
        const std::string_view after = text.substr(second + 1);
        std::from_chars(after.data(), after.data() + after.size(), after_ms);
    }
    try {
        const auto schedule = junction::core::flows::CronSchedule::parse(expression, zone);
        // A few firings in a row, as the scheduler takes them.
        std::optional<int64_t> next = after_ms;
        for (int i = 0; i < 3 && next; ++i) next = schedule.next_after(*next);
    } catch (const junction::core::Error&) {
        // refused, naming the field: the expected outcome for bad input
    }
    return 0;
}
