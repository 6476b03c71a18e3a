// Fuzzes the script shape's sandbox: a Lua script and a record go through LuaScript as a
// flow would run them, twice on the same state (a failed record must leave it usable).
// Input: "<record JSON>\n<Lua source>". A ScriptError (no compile, a runtime error, budget,
// deadline, memory, a value JSON cannot hold) is the expected outcome for bad input; a
// crash, a Lua panic, a hang past the deadline or memory past the cap is a finding.
#include "fuzz_json.hpp"

#include <junction/core/flows/lua_script.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace junction::core::flows;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return 0;
    rapidjson::Document record;
    constexpr auto flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
    record.Parse<flags>(text.data(), newline);
    if (record.HasParseError() || junction::fuzzing::nesting(record) > 64) return 0;

    ScriptLimits limits;
    limits.max_instructions = 200'000;
    limits.max_memory = size_t{16} << 20;
    limits.timeout = std::chrono::milliseconds(500);
    try {
        LuaScript script(text.substr(newline + 1), limits);
        for (int round = 0; round < 2; ++round) {
            Batch batch;
            try {
                script.run(record, batch.records, batch.allocator());
            } catch (const ScriptError&) {  // this record fails, the run goes on
            }
        }
    } catch (const ScriptError&) {  // does not compile
    }
    return 0;
}
