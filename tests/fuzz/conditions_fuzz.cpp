// Fuzzes flow conditions as a filter or route shape reads them: the condition document is
// parsed (RE2 compiles any regex), then evaluated against a record. Input (text, so seeds
// stay readable): "<condition JSON>\n<record JSON>". Problems are the expected outcome for
// bad input; a crash, a hang or unbounded memory on a long value is a finding.
#include <junction/core/common/error.hpp>
#include <junction/core/flows/condition.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

using namespace junction::core::flows;

namespace {

// How deeply a document nests, walked with an explicit stack.
size_t nesting(const rapidjson::Value& root) {
    size_t deepest = 0;
    std::vector<std::pair<const rapidjson::Value*, size_t>> todo{{&root, 1}};
    while (!todo.empty()) {
        const auto [v, depth] = todo.back();
        todo.pop_back();
        deepest = std::max(deepest, depth);
        if (v->IsArray())
            for (const auto& e : v->GetArray()) todo.push_back({&e, depth + 1});
        else if (v->IsObject())
            for (const auto& m : v->GetObject()) todo.push_back({&m.value, depth + 1});
    }
    return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const size_t newline = text.find('\n');
    const std::string_view condition_text = text.substr(0, newline);
    const std::string_view record_text = newline == std::string_view::npos ? "{}" : text.substr(newline + 1);

    // Iterative parsing keeps RapidJSON itself off the stack; the nesting cap stands in for
    // the daemon's JSON entry point, which refuses deeper documents before a flow is read.
    constexpr auto flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
    rapidjson::Document condition, record;
    condition.Parse<flags>(condition_text.data(), condition_text.size());
    record.Parse<flags>(record_text.data(), record_text.size());
    if (condition.HasParseError() || record.HasParseError()) return 0;
    if (nesting(condition) > 64 || nesting(record) > 64) return 0;
    try {
        Problems problems;
        const auto parsed = Condition::parse(Spec(condition, "/shapes/0/condition", problems));
        if (parsed) parsed->matches(record);
    } catch (const junction::core::Error&) {
    }
    return 0;
}
