// Where the connectors shipped with Junction are, seen from a Junction program: beside its
// installation (<bin>/../plugins in a build tree, <bin>/../lib/junction/plugins installed).
#pragma once

#include <filesystem>
#include <string>

namespace junction::host {

// The shipped file (e.g. "rest.so"); throws core::Error(not_found) naming what to pass instead.
std::filesystem::path shipped_plugin(const std::string& file_name, const std::string& option = "--engine");

}  // namespace junction::host
