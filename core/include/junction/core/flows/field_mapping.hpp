// One target field of a map shape: where its value comes from (a JSON pointer into the
// record, or a constant), the transforms applied in order, and for arrays the fields each
// element maps to (line items). Example:
//   {"target": "/externalId", "source": "/id", "transforms": [{"op": "to_string"}, {"op": "prefix", "value": "UK-"}]}
// A source or target of "" is the whole record. Transforms: to_number, to_string, concat,
// default, lookup, add, subtract, multiply, divide, round, date (field_mapping.cpp); upper,
// lower, trim, prefix, suffix, substring, replace, regex_extract, split, join, pad (map_text.cpp).
#pragma once

#include <junction/core/flows/spec.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

namespace junction::core::flows {

// A record that cannot be mapped (a value that is not a number, a date that does not
// parse, a lookup without a match): the record fails, the run goes on.
struct MapError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The value being transformed; `present` is false while the source had nothing there.
struct Slot {
    Json value;
    bool present = false;
};

using Transform = std::function<void(Slot& slot, const Json& record, Allocator& allocator)>;

class FieldMapping {
public:
    // nullopt (problems reported) when the spec is not a valid field.
    static std::optional<FieldMapping> parse(const Spec& spec);

    // Sets the target field of `out` (an object) from `record`. Throws MapError.
    void apply(const Json& record, Json& out, Allocator& allocator) const;

private:
    std::string target_text_;
    Pointer target_;
    bool target_is_record_ = false;  // target "": the value's members go to the top level
    std::optional<Pointer> source_;
    std::shared_ptr<rapidjson::Document> constant_;  // null when the value comes from source_
    std::vector<Transform> transforms_;
    std::vector<FieldMapping> each_;  // array map: every element becomes an object of these
    bool required_ = false;
};

}  // namespace junction::core::flows
