// The admin API's bearer token: created on first start in <state-dir>/admin.token (0600)
// and printed once, with where it lives; read from there afterwards.
#pragma once

#include <filesystem>
#include <string>

namespace junction::daemon {

std::string load_or_create_admin_token(const std::filesystem::path& state_dir);

}  // namespace junction::daemon
