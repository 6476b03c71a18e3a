// The admin API's bearer token: created on first start in <state-dir>/admin.token (0600)
// with its path printed once (the token itself only when standard output is a terminal);
// read from there afterwards.
#pragma once

#include <filesystem>
#include <string>

namespace junction::daemon {

std::string load_or_create_admin_token(const std::filesystem::path& state_dir);

}  // namespace junction::daemon
