// The one way a flow document's regular expression is compiled: RE2, which runs in time
// linear in the input and never recurses on it (a 100 KB value cannot overflow the stack
// the way std::regex did), with a bound on the memory each pattern may take.
#pragma once

#include <junction/core/flows/spec.hpp>

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>

namespace junction::core::flows {

// The pattern in the string member `key` of `spec`; null, with a problem that says what
// RE2 did not accept, when it is missing (and `required`), not a string or not a pattern.
std::unique_ptr<const RE2> flow_regex(const Spec& spec, const char* key, bool required = true);

// `pattern` compiled the same way; null, with RE2's reason in `error`, when RE2 refuses it.
// (A script's re.* patterns, which arrive at run time.)
std::unique_ptr<const RE2> compile_flow_regex(std::string_view pattern, std::string& error);

}  // namespace junction::core::flows
