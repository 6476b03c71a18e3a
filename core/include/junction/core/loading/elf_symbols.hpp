// Reads what a shared library exports without loading it: its dynamic symbols and the
// bytes of a data symbol (the ABI tag). Loading runs the library's constructors; this
// lets the host refuse a wrong file before any of its code runs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

struct ElfSymbol {
    std::string name;
    bool is_function = false;
    bool is_gnu_unique = false;  // STB_GNU_UNIQUE: dlclose cannot unload such a library
};

struct ElfExports {
    std::vector<ElfSymbol> symbols;  // defined, exported dynamic symbols

    const ElfSymbol* find(std::string_view name) const;
};

// Throws core::Error(plugin_rejected) with a plain reason when the file is not a 64-bit
// little-endian ELF shared object for this machine; a file whose offsets, sizes, counts or
// indexes do not fit inside it is refused as "not a valid shared library: <what is wrong>"
// before anything outside it is read.
ElfExports read_elf_exports(const std::filesystem::path& file);

// The bytes of an exported data object (e.g. the ABI tag), up to max_size; nullopt when
// the symbol is not exported or does not live in the file.
std::optional<std::string> read_elf_data_symbol(const std::filesystem::path& file,
                                                std::string_view name,
                                                size_t max_size = 256);

// The same over bytes already in memory (a fuzzer, a test); context names them in errors.
ElfExports parse_elf_exports(std::string_view bytes, std::string_view context);
std::optional<std::string> parse_elf_data_symbol(std::string_view bytes, std::string_view context,
                                                 std::string_view name, size_t max_size = 256);

}  // namespace junction::core
