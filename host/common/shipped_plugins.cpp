#include "shipped_plugins.hpp"

#include <junction/core/common/error.hpp>

namespace junction::host {

std::filesystem::path shipped_plugin(const std::string& file_name, const std::string& option) {
    std::error_code ec;
    const auto bin = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    for (const auto& dir : {bin / ".." / "plugins", bin / ".." / "lib" / "junction" / "plugins"})
        if (std::filesystem::exists(dir / file_name, ec)) return (dir / file_name).lexically_normal();
    throw core::Error(core::Errc::not_found,
                      "cannot find " + file_name + " shipped with Junction next to this program; give " + option + " FILE");
}

}  // namespace junction::host
