// Fuzzes a map shape's fields as it reads and applies them: each field of the list is
// parsed (transforms, their parameters, RE2 patterns), then applied to a record. Input:
// "<fields JSON array>\n<record JSON>". Problems and a record's MapError are the expected
// outcomes for bad input; a crash, a hang or memory out of proportion to the input (a
// substring, pad or split sized by a parameter) is a finding.
#include "fuzz_json.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/flows/field_mapping.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace junction::core::flows;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    rapidjson::Document fields, record;
    if (!junction::fuzzing::spec_and_record({reinterpret_cast<const char*>(data), size}, fields, record)) return 0;
    if (!fields.IsArray()) return 0;
    Problems problems;
    rapidjson::Document out(rapidjson::kObjectType);
    for (rapidjson::SizeType i = 0; i < fields.Size(); ++i) {
        const auto field = FieldMapping::parse(Spec(fields[i], "/fields/" + std::to_string(i), problems));
        if (!field) continue;
        try {
            field->apply(record, out, out.GetAllocator());
        } catch (const MapError&) {  // this record fails, the run goes on
        } catch (const junction::core::Error&) {
        }
    }
    return 0;
}
