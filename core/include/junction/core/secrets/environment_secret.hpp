// Takes a secret out of the process environment: the value is returned, the variable is
// removed and its bytes overwritten, so no child started later inherits it and
// /proc/<pid>/environ (which shows the block the process started with, whatever unsetenv
// did to `environ`) no longer holds it. Call it before any thread starts: the environment
// is not thread-safe.
#pragma once

#include <optional>
#include <string>

namespace junction::core {

std::optional<std::string> take_environment_secret(const char* name);

}  // namespace junction::core
