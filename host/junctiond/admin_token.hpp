// The admin API's bearer token and address: created on first start in <state-dir>/admin.token (0600)
// with its path printed once (the token itself only when standard output is a terminal);
// read from there afterwards.
#pragma once

#include <filesystem>
#include <string>

namespace junction::daemon {

std::string load_or_create_admin_token(const std::filesystem::path& state_dir);

// Writes the admin API's address to <state-dir>/admin.url (replacing it in one rename), so
// `junction --state-dir DIR` finds a daemon listening anywhere, not only on the default.
// A failure is logged: the address is also in the log and in GET /v1/cluster.
void record_admin_address(const std::filesystem::path& state_dir, const std::string& url);

}  // namespace junction::daemon
