#include <junction/core/elf_symbols.hpp>

#include <junction/core/error.hpp>

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace junction::core {

namespace {

// The whole file in memory: libraries are small and this runs once per install.
std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(Errc::io, "cannot open file", file.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

[[noreturn]] void reject(const std::filesystem::path& file, const std::string& why) {
    throw Error(Errc::plugin_rejected,
                why + "; a connector package must be a shared library (.so) built with the "
                      "Junction SDK for this machine",
                file.string());
}

template <class T>
T read_at(const std::string& bytes, size_t offset, const std::filesystem::path& file) {
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) reject(file, "truncated ELF file");
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

struct DynamicTables {
    std::vector<Elf64_Shdr> sections;
    Elf64_Shdr dynsym{};
    Elf64_Shdr dynstr{};
};

DynamicTables find_dynamic_tables(const std::string& bytes, const std::filesystem::path& file) {
    if (bytes.size() < sizeof(Elf64_Ehdr) || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        reject(file, "not an ELF file");
    const auto eh = read_at<Elf64_Ehdr>(bytes, 0, file);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        reject(file, "not a 64-bit little-endian ELF file");
    if (eh.e_type != ET_DYN) reject(file, "an ELF file but not a shared library");
#if defined(__x86_64__)
    if (eh.e_machine != EM_X86_64) reject(file, "a shared library for another CPU");
#elif defined(__aarch64__)
    if (eh.e_machine != EM_AARCH64) reject(file, "a shared library for another CPU");
#endif
    if (eh.e_shentsize != sizeof(Elf64_Shdr)) reject(file, "unexpected ELF section header size");
    // A position-independent executable is ET_DYN too; its program interpreter gives it away.
    for (size_t i = 0; i < eh.e_phnum; ++i) {
        const auto ph = read_at<Elf64_Phdr>(bytes, eh.e_phoff + i * sizeof(Elf64_Phdr), file);
        if (ph.p_type == PT_INTERP) reject(file, "an executable program, not a shared library");
    }

    DynamicTables t;
    for (size_t i = 0; i < eh.e_shnum; ++i)
        t.sections.push_back(read_at<Elf64_Shdr>(bytes, eh.e_shoff + i * sizeof(Elf64_Shdr), file));
    bool found = false;
    for (const auto& s : t.sections) {
        if (s.sh_type != SHT_DYNSYM) continue;
        if (s.sh_link >= t.sections.size()) reject(file, "corrupt dynamic symbol table");
        t.dynsym = s;
        t.dynstr = t.sections[s.sh_link];
        found = true;
    }
    if (!found) reject(file, "a shared library without a dynamic symbol table");
    if (t.dynsym.sh_offset + t.dynsym.sh_size > bytes.size() ||
        t.dynstr.sh_offset + t.dynstr.sh_size > bytes.size())
        reject(file, "truncated dynamic symbol table");
    return t;
}

template <class Visit>
void for_each_defined_symbol(const std::string& bytes, const DynamicTables& t,
                             const std::filesystem::path& file, Visit visit) {
    const size_t count = t.dynsym.sh_size / sizeof(Elf64_Sym);
    for (size_t i = 1; i < count; ++i) {
        const auto sym = read_at<Elf64_Sym>(bytes, t.dynsym.sh_offset + i * sizeof(Elf64_Sym), file);
        if (sym.st_shndx == SHN_UNDEF) continue;
        const unsigned bind = ELF64_ST_BIND(sym.st_info);
        if (bind == STB_LOCAL) continue;
        if (ELF64_ST_VISIBILITY(sym.st_other) == STV_HIDDEN) continue;
        if (sym.st_name >= t.dynstr.sh_size) reject(file, "corrupt symbol name");
        const char* name = bytes.data() + t.dynstr.sh_offset + sym.st_name;
        const size_t max = t.dynstr.sh_size - sym.st_name;
        visit(std::string(name, strnlen(name, max)), sym);
    }
}

}  // namespace

const ElfSymbol* ElfExports::find(std::string_view name) const {
    for (const auto& s : symbols)
        if (s.name == name) return &s;
    return nullptr;
}

ElfExports read_elf_exports(const std::filesystem::path& file) {
    const std::string bytes = read_file(file);
    const DynamicTables t = find_dynamic_tables(bytes, file);
    ElfExports out;
    for_each_defined_symbol(bytes, t, file, [&](std::string name, const Elf64_Sym& sym) {
        ElfSymbol s;
        s.name = std::move(name);
        s.is_function = ELF64_ST_TYPE(sym.st_info) == STT_FUNC;
        s.is_gnu_unique = ELF64_ST_BIND(sym.st_info) == STB_GNU_UNIQUE;
        out.symbols.push_back(std::move(s));
    });
    return out;
}

std::optional<std::string> read_elf_data_symbol(const std::filesystem::path& file,
                                                std::string_view name, size_t max_size) {
    const std::string bytes = read_file(file);
    const DynamicTables t = find_dynamic_tables(bytes, file);
    std::optional<std::string> value;
    for_each_defined_symbol(bytes, t, file, [&](const std::string& n, const Elf64_Sym& sym) {
        if (n != name || value || sym.st_shndx >= t.sections.size()) return;
        const Elf64_Shdr& sec = t.sections[sym.st_shndx];
        if (sec.sh_type == SHT_NOBITS) return;  // lives in .bss: nothing in the file
        if (sym.st_value < sec.sh_addr) return;
        const size_t offset = sec.sh_offset + (sym.st_value - sec.sh_addr);
        const size_t size = std::min<size_t>(sym.st_size, max_size);
        if (offset > bytes.size() || bytes.size() - offset < size) return;
        value = std::string(bytes.data() + offset, size);
    });
    return value;
}

}  // namespace junction::core
