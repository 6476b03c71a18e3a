// One connector library in memory: checked before loading (ELF exports and ABI tag),
// loaded RTLD_NOW | RTLD_LOCAL through Boost.DLL, negotiated. The library stays mapped for
// as long as a shared_ptr to it lives; that is what a lease is.
#pragma once

#include <junction/plugin_api.h>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace junction::core {

struct AbiVersion {
    uint32_t major = 0;
    uint32_t minor = 0;
};

// Parses "JN_ABI=[1.0]"; nullopt when the text is not a tag.
std::optional<AbiVersion> parse_abi_tag(std::string_view tag);

class PluginLibrary {
public:
    // Throws Error(plugin_rejected) with the reason and what to do, before running any of
    // the library's code when the file itself is wrong. `host` is the host-services table
    // the library receives at negotiation (junctiond's own, or a connector process's, which
    // forwards each service to junctiond); it must outlive the library.
    static std::shared_ptr<PluginLibrary> load(const std::filesystem::path& file, const jn_host_api* host);

    const jn_connector_api& connector() const { return connector_; }
    AbiVersion plugin_abi() const { return abi_; }
    const std::filesystem::path& file() const { return file_; }

private:
    PluginLibrary() = default;
    std::filesystem::path file_;
    boost::dll::shared_library library_;
    jn_connector_api connector_{};  // copied and zero-filled to the size this host knows
    AbiVersion abi_;
};

}  // namespace junction::core
