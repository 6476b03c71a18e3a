// A condition on a record's fields, as filter and route shapes use it:
//   {"field": "/financial_status", "op": "eq", "value": "paid"}
//   ops: eq ne lt le gt ge in exists regex; {"and": [...]}, {"or": [...]}, {"not": {...}}
// Numbers compare as numbers, timestamps (ISO 8601) as instants, other strings by bytes.
// regex searches the value with RE2 (linear time; no backreferences or lookaround).
#pragma once

#include <junction/core/flows/spec.hpp>

#include <memory>

namespace junction::core::flows {

class Condition {
public:
    virtual ~Condition() = default;
    virtual bool matches(const Json& record) const = 0;

    // Null (with the problems reported) when the spec is not a condition.
    static std::unique_ptr<Condition> parse(const Spec& spec);
};

}  // namespace junction::core::flows
