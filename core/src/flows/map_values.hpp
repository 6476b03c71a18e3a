// What the map shape's transforms share: reading a slot's value as text or a number, and
// setting it, each failing with a MapError that says what the value was instead.
#pragma once

#include <junction/core/flows/field_mapping.hpp>

#include <memory>
#include <string>

namespace junction::core::flows {

// A value as text: strings as they are, numbers and booleans written, null empty, and
// objects and lists as JSON.
std::string text_of(const Json& v);
// `v` as a number (a number, or text that is one in full); `op` names the transform.
double number_in(const Json* v, const std::string& op);
double number_of(const Slot& s, const std::string& op);
// The slot's text; a MapError when there is none or it is an object or a list.
std::string text_or_fail(const Slot& s, const std::string& op);
bool absent(const Slot& s);

void set_number(Slot& s, double v);
void set_text(Slot& s, std::string_view t, Allocator& a);

// A copy of `v` that a transform keeps for the life of the flow.
std::shared_ptr<rapidjson::Document> keep(const Json& v);

}  // namespace junction::core::flows
