// The order of connector versions: semantic versions, numbers compared as numbers.
#pragma once

#include <string_view>

namespace junction::core {

// Orders "1.2.10" after "1.2.9"; a pre-release ("1.0.0-beta") sorts before its release.
// Returns <0, 0 or >0 as a is older than, the same as, or newer than b.
int compare_versions(std::string_view a, std::string_view b);

}  // namespace junction::core
