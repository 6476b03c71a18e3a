// Fuzzes the connector manifest a plugin's describe() returns: parse_manifest must refuse
// anything malformed with Error, never crash, whatever the bytes.
#include <junction/core/common/error.hpp>
#include <junction/core/bridge/manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto manifest = junction::core::parse_manifest(text);
        // What the host does with an accepted manifest: look operations up, name it.
        (void)manifest.id();
        for (const auto& op : manifest.operations) (void)manifest.find_operation(op.name);
    } catch (const junction::core::Error&) {
        // refused with a message: the expected outcome for bad input
    }
    return 0;
}
