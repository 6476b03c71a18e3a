// A manifest's response rules applied to an answer: which rule matches (the first whose
// tests all pass), the server's message it names, and how long the answer asks to wait.
#pragma once

#include "definition.hpp"

#include <cstdint>
#include <string>

namespace junction::rest {

struct RuleVerdict {
    const ResponseRule* rule = nullptr;  // none matched
    std::string message;                 // the value at rule->message (at most 300 bytes)
    int64_t wait_ms = -1;                // rule->wait_ms as the answer states it; -1: not stated
};

// The body is parsed (with the bounded reader) only when a rule reads it and every key its
// pointers start with occurs in it: an ordinary page costs a substring search per rule.
RuleVerdict judge_answer(const std::vector<ResponseRule>& rules, const sdk::HttpResponse& response);

}  // namespace junction::rest
