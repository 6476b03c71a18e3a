// Fuzzes flow conditions as a filter or route shape reads them: the condition document is
// parsed (RE2 compiles any regex), then evaluated against a record. Input (text, so seeds
// stay readable): "<condition JSON>\n<record JSON>". Problems are the expected outcome for
// bad input; a crash, a hang or unbounded memory on a long value is a finding.
#include "fuzz_json.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/flows/condition.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace junction::core::flows;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    rapidjson::Document condition, record;
    if (!junction::fuzzing::spec_and_record({reinterpret_cast<const char*>(data), size}, condition, record)) return 0;
    try {
        Problems problems;
        const auto parsed = Condition::parse(Spec(condition, "/shapes/0/condition", problems));
        if (parsed) parsed->matches(record);
    } catch (const junction::core::Error&) {
    }
    return 0;
}
