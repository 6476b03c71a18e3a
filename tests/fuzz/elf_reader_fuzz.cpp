// Fuzzes the ELF reader the pre-load check, junction-plugin-check and the install API run
// on untrusted files before any plugin code: the exported symbols, then the ABI tag's
// bytes, straight from memory. A refusal (core::Error) is the expected outcome for bad
// input; any read outside the input is a crash ASan reports.
#include <junction/core/loading/elf_symbols.hpp>
#include <junction/core/common/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        const auto exports = junction::core::parse_elf_exports(bytes, "fuzz.so");
        if (exports.find("jn_abi_tag")) junction::core::parse_elf_data_symbol(bytes, "fuzz.so", "jn_abi_tag");
    } catch (const junction::core::Error&) {
    }
    return 0;
}
