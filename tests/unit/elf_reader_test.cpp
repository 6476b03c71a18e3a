// The ELF reader meets crafted files before any plugin code runs: each lie in a header is
// refused with what is wrong, and nothing outside the file is read (the ASan build proves
// the second half).
#include <doctest/doctest.h>

#include "crafted_elf.hpp"
#include "test_paths.hpp"

#include <junction/core/loading/elf_symbols.hpp>
#include <junction/core/common/error.hpp>

using namespace junction::core;
using namespace junction::testing;

namespace {

CraftedElf jsonl() { return CraftedElf(read_text(plugin_dir() / "jsonl.so")); }

std::string refusal(const std::string& bytes) {
    try {
        parse_elf_exports(bytes, "crafted.so");
        parse_elf_data_symbol(bytes, "crafted.so", "jn_abi_tag");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::plugin_rejected);
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("a connector built with the SDK reads the same from memory as from its file") {
    const CraftedElf elf = jsonl();
    const ElfExports e = parse_elf_exports(elf.bytes(), "jsonl.so");
    REQUIRE(e.find("jn_plugin_negotiate"));
    CHECK(e.find("jn_abi_tag"));
    CHECK(parse_elf_data_symbol(elf.bytes(), "jsonl.so", "jn_abi_tag").value().c_str() == std::string(JN_ABI_TAG));
    CHECK(refusal(elf.bytes()) == "accepted");
}

TEST_CASE("a truncated file is refused") {
    CraftedElf header_only = jsonl();
    header_only.truncate(40);
    CHECK(refusal(header_only.bytes()) == "crafted.so: not a valid shared library: truncated ELF header; a connector "
                                          "package must be a shared library (.so) built with the Junction SDK for "
                                          "this machine");
    CraftedElf half = jsonl();
    half.truncate(half.bytes().size() / 2);
    CHECK(refusal(half.bytes()).find("not a valid shared library: the section header table lies past the end of the file") !=
          std::string::npos);
    CHECK(refusal("\x7f" "EL").find("not a valid shared library: not an ELF file") != std::string::npos);
}

TEST_CASE("a section header table past the end is refused") {
    CraftedElf elf = jsonl();
    Elf64_Ehdr h = elf.header();
    h.e_shoff = elf.bytes().size() - 10;
    elf.set_header(h);
    CHECK(refusal(elf.bytes()).find("not a valid shared library: the section header table lies past the end of the "
                                    "file") != std::string::npos);
    h.e_shoff = UINT64_MAX - 100;  // offset + count * 64 wraps
    elf.set_header(h);
    CHECK(refusal(elf.bytes()).find("the section header table has an offset or size that overflows") != std::string::npos);
}

TEST_CASE("a program header table that wraps around 2^64 is refused") {
    CraftedElf elf = jsonl();
    Elf64_Ehdr h = elf.header();
    h.e_phoff = UINT64_MAX - 8;
    elf.set_header(h);
    CHECK(refusal(elf.bytes()).find("the program header table has an offset or size that overflows") != std::string::npos);
}

TEST_CASE("a table whose offset + size wraps around 2^64 is refused, not read") {
    CHECK(refusal(elf_with_wrapped_string_table(jsonl().bytes()))
              .find("not a valid shared library: the dynamic string table has an offset or size that overflows") !=
          std::string::npos);

    CraftedElf elf = jsonl();
    Elf64_Shdr s = elf.section(elf.dynsym_index());
    s.sh_size = 16 * sizeof(Elf64_Sym);
    s.sh_offset = UINT64_MAX - 8 * sizeof(Elf64_Sym) + 1;
    elf.set_section(elf.dynsym_index(), s);
    CHECK(refusal(elf.bytes()).find("the dynamic symbol table (section ") != std::string::npos);
    CHECK(refusal(elf.bytes()).find("has an offset or size that overflows") != std::string::npos);
}

TEST_CASE("a string table index out of range is refused") {
    CraftedElf link = jsonl();
    Elf64_Shdr s = link.section(link.dynsym_index());
    s.sh_link = 999;
    link.set_section(link.dynsym_index(), s);
    CHECK(refusal(link.bytes()).find("names string table section 999, but the file has ") != std::string::npos);

    CraftedElf name = jsonl();
    const size_t i = name.first_exported_symbol();
    Elf64_Sym sym = name.symbol(i);
    sym.st_name = 0xfffffff0;
    name.set_symbol(i, sym);
    CHECK(refusal(name.bytes()).find("not a valid shared library: a symbol name starts at byte 4294967280 of a string "
                                     "table of ") != std::string::npos);
}

TEST_CASE("a symbol name without its NUL inside the string table is refused") {
    CraftedElf elf = jsonl();
    const Elf64_Shdr strtab = elf.section(elf.dynstr_index());
    elf.set_byte(strtab.sh_offset + strtab.sh_size - 1, 'x');  // the table's last NUL
    const size_t i = elf.first_exported_symbol();
    Elf64_Sym sym = elf.symbol(i);
    sym.st_name = static_cast<uint32_t>(strtab.sh_size - 1);
    elf.set_symbol(i, sym);
    CHECK(refusal(elf.bytes()).find("not a valid shared library: a symbol name runs past the end of the string table") !=
          std::string::npos);
}

TEST_CASE("section headers smaller than Elf64_Shdr are refused") {
    CraftedElf elf = jsonl();
    Elf64_Ehdr h = elf.header();
    h.e_shentsize = 32;
    elf.set_header(h);
    CHECK(refusal(elf.bytes()).find("not a valid shared library: section headers are 32 bytes each, expected 64") !=
          std::string::npos);
}

TEST_CASE("a symbol table with entries of 0 bytes is refused") {
    CraftedElf elf = jsonl();
    Elf64_Shdr s = elf.section(elf.dynsym_index());
    s.sh_entsize = 0;
    elf.set_section(elf.dynsym_index(), s);
    CHECK(refusal(elf.bytes()).find("has entries of 0 bytes, expected 24") != std::string::npos);
}

TEST_CASE("a data symbol whose section lies past the end of the file is refused") {
    CraftedElf elf = jsonl();
    const ElfExports e = parse_elf_exports(elf.bytes(), "jsonl.so");
    REQUIRE(e.find("jn_abi_tag"));
    // Find the tag's section and move it beyond the file.
    const size_t count = elf.section(elf.dynsym_index()).sh_size / sizeof(Elf64_Sym);
    for (size_t i = 1; i < count; ++i) {
        const Elf64_Sym sym = elf.symbol(i);
        if (ELF64_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
            continue;
        Elf64_Shdr sec = elf.section(sym.st_shndx);
        sec.sh_offset = UINT64_MAX - 4;
        elf.set_section(sym.st_shndx, sec);
    }
    CHECK_THROWS_WITH_AS(parse_elf_data_symbol(elf.bytes(), "crafted.so", "jn_abi_tag"),
                         doctest::Contains("not a valid shared library: the section holding the symbol jn_abi_tag"), Error);
}

TEST_CASE("the file entry names the file in its refusal") {
    TempDir dir;
    write_file(dir / "wrapped.so", elf_with_wrapped_string_table(jsonl().bytes()));
    try {
        read_elf_exports(dir / "wrapped.so");
        FAIL("the wrapped file was accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).starts_with((dir / "wrapped.so").string() + ": not a valid shared library: "));
    }
}
