// The map shape's transforms on text: case, trimming, affixes, substrings counted in
// characters (not bytes), plain and regex replacement, regex extraction, split, join and
// padding. Regular expressions are RE2's (linear time, see flow_regex.hpp).
#pragma once

#include <junction/core/flows/field_mapping.hpp>

#include <string>

namespace junction::core::flows {

// The transform ops this file reads, in the order docs/flows.md lists them.
const std::vector<std::string>& text_transform_ops();
// The transform `op` (one of text_transform_ops()) as `t` describes it; nullopt with the
// problems in `t` when its parameters are wrong.
std::optional<Transform> text_transform(const Spec& t, const std::string& op);

}  // namespace junction::core::flows
