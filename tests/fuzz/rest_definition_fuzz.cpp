// Fuzzes the REST engine's manifest definition: parse_definition must refuse bad manifests
// with sdk::Error; an accepted one yields the connector manifest the host then parses.
#include "definition.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/bridge/manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::unique_ptr<junction::rest::Definition> definition;
    try {
        definition = junction::rest::parse_definition(text);
    } catch (const junction::sdk::Error&) {
        return 0;  // refused with a message
    }
    for (const auto& e : definition->endpoints) (void)definition->find(e.name);
    try {
        (void)junction::core::parse_manifest(definition->manifest());
    } catch (const junction::core::Error&) {
        // the host refuses it with a message: not a crash
    }
    return 0;
}
