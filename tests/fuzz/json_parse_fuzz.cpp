// libFuzzer target for the one JSON entry point (issue 13, decision 0013): any bytes either
// parse or are refused with a core::Error; never a crash, a hang on depth, or a leak. What
// parses is written by the one writer and must parse again. Read as a page too, so the
// per-record cap is exercised.
#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // As a page, with a record cap small enough for fuzzed inputs to cross it.
    static const bool small_records = [] {
        junction::core::JsonLimits limits = junction::core::json_limits();
        limits.max_record_bytes = 64;
        junction::core::set_json_limits(limits);
        return true;
    }();
    (void)small_records;
    try {
        junction::core::parse_json_text(text, "the page", junction::core::JsonSize::page);
    } catch (const junction::core::Error&) {
    }
    rapidjson::Document doc;
    try {
        doc = junction::core::parse_json_text(text, "the input");
    } catch (const junction::core::Error&) {
        return 0;  // refused with a message: fine
    }
    const std::string written = junction::core::write_json(doc);
    // The text may differ in the last digit of a double (RapidJSON's normal-precision
    // reading), so only the reading back is required, with the same shape.
    try {
        const rapidjson::Document again = junction::core::parse_json_text(written, "the written input");
        if (again.GetType() != doc.GetType()) std::abort();
    } catch (const junction::core::Error&) {
        std::abort();  // what the writer wrote must always read back
    }
    // Quoting arbitrary bytes must always give one valid JSON string.
    try {
        if (!junction::core::parse_json_text(junction::core::json_quote(text), "the quoted input").IsString())
            std::abort();
    } catch (const junction::core::Error&) {
        std::abort();
    }
    return 0;
}
