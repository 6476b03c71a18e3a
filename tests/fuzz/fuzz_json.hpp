// What the fuzz targets that take "<spec JSON>\n<record JSON>" share: parsing each half the
// way the daemon's JSON entry point would let it through (iterative, valid UTF-8, at most
// 64 levels deep), so the target fuzzes the part under test and not RapidJSON's recursion.
#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::fuzzing {

// How deeply a document nests, walked with an explicit stack.
inline size_t nesting(const rapidjson::Value& root) {
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

// Splits the input at its first line end and parses both halves (the record defaults to
// {}); false when either is not JSON the daemon would accept.
inline bool spec_and_record(std::string_view text, rapidjson::Document& spec, rapidjson::Document& record) {
    const size_t newline = text.find('\n');
    const std::string_view spec_text = text.substr(0, newline);
    const std::string_view record_text = newline == std::string_view::npos ? "{}" : text.substr(newline + 1);
    constexpr auto flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
    spec.Parse<flags>(spec_text.data(), spec_text.size());
    record.Parse<flags>(record_text.data(), record_text.size());
    if (spec.HasParseError() || record.HasParseError()) return false;
    return nesting(spec) <= 64 && nesting(record) <= 64;
}

}  // namespace junction::fuzzing
