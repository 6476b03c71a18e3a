// Hostile ELF files made from a real library's bytes: each patches one header field at its
// known offset (through <elf.h>'s structs) so the reader meets exactly one lie at a time.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace junction::testing {

class CraftedElf {
public:
    explicit CraftedElf(std::string bytes) : bytes_(std::move(bytes)) {
        if (bytes_.size() < sizeof(Elf64_Ehdr)) throw std::runtime_error("not an ELF file to craft from");
    }

    const std::string& bytes() const { return bytes_; }

    Elf64_Ehdr header() const { return get<Elf64_Ehdr>(0); }
    void set_header(const Elf64_Ehdr& h) { put(0, h); }

    size_t section_offset(size_t index) const { return header().e_shoff + index * sizeof(Elf64_Shdr); }
    Elf64_Shdr section(size_t index) const { return get<Elf64_Shdr>(section_offset(index)); }
    void set_section(size_t index, const Elf64_Shdr& s) { put(section_offset(index), s); }

    size_t index_of_type(uint32_t type) const {
        for (size_t i = 0; i < header().e_shnum; ++i)
            if (section(i).sh_type == type) return i;
        throw std::runtime_error("the library has no section of that type");
    }
    size_t dynsym_index() const { return index_of_type(SHT_DYNSYM); }
    size_t dynstr_index() const { return section(dynsym_index()).sh_link; }

    // The first symbol the reader looks at the name of: defined, not local, not hidden.
    size_t first_exported_symbol() const {
        const Elf64_Shdr s = section(dynsym_index());
        for (size_t i = 1; i < s.sh_size / sizeof(Elf64_Sym); ++i) {
            const Elf64_Sym sym = symbol(i);
            if (sym.st_shndx != SHN_UNDEF && ELF64_ST_BIND(sym.st_info) != STB_LOCAL &&
                ELF64_ST_VISIBILITY(sym.st_other) != STV_HIDDEN)
                return i;
        }
        throw std::runtime_error("the library exports nothing");
    }
    size_t symbol_offset(size_t index) const {
        return section(dynsym_index()).sh_offset + index * sizeof(Elf64_Sym);
    }
    Elf64_Sym symbol(size_t index) const { return get<Elf64_Sym>(symbol_offset(index)); }
    void set_symbol(size_t index, const Elf64_Sym& s) { put(symbol_offset(index), s); }

    void set_byte(size_t offset, char c) { bytes_.at(offset) = c; }
    void truncate(size_t size) { bytes_.resize(size); }

private:
    template <class T>
    T get(size_t offset) const {
        if (offset > bytes_.size() || bytes_.size() - offset < sizeof(T)) throw std::runtime_error("read past the end");
        T v;
        std::memcpy(&v, bytes_.data() + offset, sizeof v);
        return v;
    }
    template <class T>
    void put(size_t offset, const T& v) {
        if (offset > bytes_.size() || bytes_.size() - offset < sizeof(T)) throw std::runtime_error("write past the end");
        std::memcpy(bytes_.data() + offset, &v, sizeof v);
    }

    std::string bytes_;
};

// The attack of issue 13: the dynamic string table's offset + size wraps around 2^64 to a
// small number, so a reader that adds them without checking reads symbol names from far
// outside the file (the old reader segfaulted here).
inline std::string elf_with_wrapped_string_table(const std::string& valid_library) {
    CraftedElf elf(valid_library);
    const size_t i = elf.dynstr_index();
    Elf64_Shdr s = elf.section(i);
    s.sh_offset = UINT64_MAX - s.sh_size + 1 + 16;  // offset + size == 2^64 + 16
    elf.set_section(i, s);
    return elf.bytes();
}

}  // namespace junction::testing
