// The one way a flow document's regular expression is compiled: RE2, which runs in time
// linear in the input and never recurses on it (a 100 KB value cannot overflow the stack
// the way std::regex did), with a bound on the memory each pattern may take.
#pragma once

#include <junction/core/flows/spec.hpp>

#include <re2/re2.h>

#include <memory>

namespace junction::core::flows {

// The pattern in the string member `key` of `spec`; null, with a problem that says what
// RE2 did not accept, when it is missing (and `required`), not a string or not a pattern.
std::unique_ptr<const RE2> flow_regex(const Spec& spec, const char* key, bool required = true);

}  // namespace junction::core::flows
