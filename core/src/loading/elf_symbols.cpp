#include <junction/core/loading/elf_symbols.hpp>

#include <junction/core/common/error.hpp>

#include <elf.h>

#include <cstring>
#include <fstream>

namespace junction::core {

namespace {

// The whole file in memory, read in one go: it runs at each install and each start of a
// connector process, and a library with debug info is several megabytes.
std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) throw Error(Errc::io, "cannot open file", file.string());
    const std::streamoff size = in.tellg();
    std::string bytes(size > 0 ? static_cast<size_t>(size) : 0, '\0');
    in.seekg(0);
    if (size > 0 && !in.read(bytes.data(), size)) throw Error(Errc::io, "cannot read file", file.string());
    return bytes;
}

constexpr const char* kWhatToDo =
    "; a connector package must be a shared library (.so) built with the Junction SDK for this "
    "machine";

// A file that is an ELF file of the wrong kind (an executable, another CPU).
[[noreturn]] void reject(std::string_view context, const std::string& why) {
    throw Error(Errc::plugin_rejected, why + kWhatToDo, std::string(context));
}

// A file whose structure is broken or crafted: an offset, size, count or index that does
// not fit the file. Every such read is refused before it happens.
[[noreturn]] void malformed(std::string_view context, const std::string& why) {
    reject(context, "not a valid shared library: " + why);
}

// The ELF file's bytes and the checked reads the rest of this file uses. Every offset and
// size comes from the file, so every sum and product is checked against overflow and
// against the file's length before anything is read.
class ElfBytes {
public:
    ElfBytes(std::string_view bytes, std::string_view context) : bytes_(bytes), context_(context) {}

    std::string_view context() const { return context_; }
    uint64_t size() const { return bytes_.size(); }

    // The bytes [offset, offset + count * entry) or a refusal naming what they were meant to be.
    std::string_view range(uint64_t offset, uint64_t count, uint64_t entry, const std::string& what) const {
        uint64_t length = 0, end = 0;
        if (__builtin_mul_overflow(count, entry, &length) || __builtin_add_overflow(offset, length, &end))
            malformed(context_, what + " has an offset or size that overflows");
        if (end > bytes_.size())
            malformed(context_, what + " lies past the end of the file (ends at byte " + std::to_string(end) +
                                    ", the file has " + std::to_string(bytes_.size()) + ")");
        return bytes_.substr(offset, length);
    }

    template <class T>
    T read(uint64_t offset, const std::string& what) const {
        const std::string_view b = range(offset, 1, sizeof(T), what);
        T value;
        std::memcpy(&value, b.data(), sizeof(T));
        return value;
    }

private:
    std::string_view bytes_;
    std::string_view context_;
};

struct DynamicTables {
    std::vector<Elf64_Shdr> sections;
    std::string_view symbols;  // the .dynsym bytes, a whole number of Elf64_Sym
    std::string_view names;    // the .dynstr bytes
};

Elf64_Ehdr read_header(const ElfBytes& elf) {
    if (elf.size() < SELFMAG || std::memcmp(elf.range(0, 1, SELFMAG, "the ELF magic").data(), ELFMAG, SELFMAG) != 0)
        malformed(elf.context(), "not an ELF file (it does not start with \\x7fELF)");
    if (elf.size() < sizeof(Elf64_Ehdr)) malformed(elf.context(), "truncated ELF header");
    const auto eh = elf.read<Elf64_Ehdr>(0, "the ELF header");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        reject(elf.context(), "not a 64-bit little-endian ELF file");
    if (eh.e_type != ET_DYN) reject(elf.context(), "an ELF file but not a shared library");
#if defined(__x86_64__)
    if (eh.e_machine != EM_X86_64) reject(elf.context(), "a shared library for another CPU");
#elif defined(__aarch64__)
    if (eh.e_machine != EM_AARCH64) reject(elf.context(), "a shared library for another CPU");
#endif
    if (eh.e_phnum > 0 && eh.e_phentsize != sizeof(Elf64_Phdr))
        malformed(elf.context(), "program headers are " + std::to_string(eh.e_phentsize) + " bytes each, expected " +
                                     std::to_string(sizeof(Elf64_Phdr)));
    if (eh.e_shnum > 0 && eh.e_shentsize != sizeof(Elf64_Shdr))
        malformed(elf.context(), "section headers are " + std::to_string(eh.e_shentsize) + " bytes each, expected " +
                                     std::to_string(sizeof(Elf64_Shdr)));
    return eh;
}

DynamicTables find_dynamic_tables(const ElfBytes& elf) {
    const Elf64_Ehdr eh = read_header(elf);
    // A position-independent executable is ET_DYN too; its program interpreter gives it away.
    const std::string_view phdrs = elf.range(eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr), "the program header table");
    for (size_t i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, phdrs.data() + i * sizeof(Elf64_Phdr), sizeof ph);
        if (ph.p_type == PT_INTERP) reject(elf.context(), "an executable program, not a shared library");
    }

    DynamicTables t;
    const std::string_view shdrs = elf.range(eh.e_shoff, eh.e_shnum, sizeof(Elf64_Shdr), "the section header table");
    t.sections.resize(eh.e_shnum);
    if (eh.e_shnum > 0) std::memcpy(t.sections.data(), shdrs.data(), shdrs.size());

    const Elf64_Shdr* dynsym = nullptr;
    size_t dynsym_index = 0;
    for (size_t i = 0; i < t.sections.size() && !dynsym; ++i)
        if (t.sections[i].sh_type == SHT_DYNSYM) dynsym = &t.sections[dynsym_index = i];
    if (!dynsym) reject(elf.context(), "a shared library without a dynamic symbol table");
    const std::string where = "the dynamic symbol table (section " + std::to_string(dynsym_index) + ")";
    if (dynsym->sh_entsize != sizeof(Elf64_Sym))
        malformed(elf.context(), where + " has entries of " + std::to_string(dynsym->sh_entsize) +
                                     " bytes, expected " + std::to_string(sizeof(Elf64_Sym)));
    if (dynsym->sh_size % sizeof(Elf64_Sym) != 0)
        malformed(elf.context(), where + " is not a whole number of entries");
    if (dynsym->sh_link >= t.sections.size())
        malformed(elf.context(), where + " names string table section " + std::to_string(dynsym->sh_link) +
                                     ", but the file has " + std::to_string(t.sections.size()) + " sections");
    const Elf64_Shdr& dynstr = t.sections[dynsym->sh_link];
    if (dynstr.sh_type != SHT_STRTAB)
        malformed(elf.context(), where + " names section " + std::to_string(dynsym->sh_link) +
                                     " as its string table, which is not a string table");
    t.symbols = elf.range(dynsym->sh_offset, 1, dynsym->sh_size, where);
    t.names = elf.range(dynstr.sh_offset, 1, dynstr.sh_size, "the dynamic string table");
    return t;
}

// A symbol's name: it must start inside the string table and end with a NUL inside it.
std::string_view symbol_name(const ElfBytes& elf, const DynamicTables& t, uint32_t offset) {
    if (offset >= t.names.size())
        malformed(elf.context(), "a symbol name starts at byte " + std::to_string(offset) +
                                     " of a string table of " + std::to_string(t.names.size()) + " bytes");
    const std::string_view rest = t.names.substr(offset);
    const size_t end = rest.find('\0');
    if (end == std::string_view::npos)
        malformed(elf.context(), "a symbol name runs past the end of the string table (no terminating NUL)");
    return rest.substr(0, end);
}

template <class Visit>
void for_each_defined_symbol(const ElfBytes& elf, const DynamicTables& t, Visit visit) {
    const size_t count = t.symbols.size() / sizeof(Elf64_Sym);
    for (size_t i = 1; i < count; ++i) {
        Elf64_Sym sym;
        std::memcpy(&sym, t.symbols.data() + i * sizeof(Elf64_Sym), sizeof sym);
        if (sym.st_shndx == SHN_UNDEF) continue;
        const unsigned bind = ELF64_ST_BIND(sym.st_info);
        if (bind == STB_LOCAL) continue;
        if (ELF64_ST_VISIBILITY(sym.st_other) == STV_HIDDEN) continue;
        visit(symbol_name(elf, t, sym.st_name), sym);
    }
}

ElfExports exports_of(const ElfBytes& elf) {
    const DynamicTables t = find_dynamic_tables(elf);
    ElfExports out;
    for_each_defined_symbol(elf, t, [&](std::string_view name, const Elf64_Sym& sym) {
        ElfSymbol s;
        s.name = std::string(name);
        s.is_function = ELF64_ST_TYPE(sym.st_info) == STT_FUNC;
        s.is_gnu_unique = ELF64_ST_BIND(sym.st_info) == STB_GNU_UNIQUE;
        out.symbols.push_back(std::move(s));
    });
    return out;
}

// The file bytes of a symbol that lives in a section with contents; nullopt when it does
// not (in .bss, an absolute symbol) or when its address does not fall inside its section.
std::optional<std::string> data_of(const ElfBytes& elf, std::string_view name, size_t max_size) {
    const DynamicTables t = find_dynamic_tables(elf);
    std::optional<std::string> value;
    for_each_defined_symbol(elf, t, [&](std::string_view n, const Elf64_Sym& sym) {
        if (n != name || value || sym.st_shndx >= t.sections.size()) return;
        const Elf64_Shdr& sec = t.sections[sym.st_shndx];
        if (sec.sh_type == SHT_NOBITS) return;  // lives in .bss: nothing in the file
        if (sym.st_value < sec.sh_addr) return;
        const std::string_view contents =
            elf.range(sec.sh_offset, 1, sec.sh_size, "the section holding the symbol " + std::string(name));
        const uint64_t within = sym.st_value - sec.sh_addr;
        const uint64_t size = std::min<uint64_t>(sym.st_size, max_size);
        if (within > contents.size() || contents.size() - within < size) return;
        value = std::string(contents.substr(within, size));
    });
    return value;
}

}  // namespace

const ElfSymbol* ElfExports::find(std::string_view name) const {
    for (const auto& s : symbols)
        if (s.name == name) return &s;
    return nullptr;
}

ElfExports read_elf_exports(const std::filesystem::path& file) {
    const std::string bytes = read_file(file);
    return exports_of(ElfBytes(bytes, file.string()));
}

std::optional<std::string> read_elf_data_symbol(const std::filesystem::path& file,
                                                std::string_view name, size_t max_size) {
    const std::string bytes = read_file(file);
    return data_of(ElfBytes(bytes, file.string()), name, max_size);
}

ElfExports parse_elf_exports(std::string_view bytes, std::string_view context) {
    return exports_of(ElfBytes(bytes, context));
}

std::optional<std::string> parse_elf_data_symbol(std::string_view bytes, std::string_view context,
                                                 std::string_view name, size_t max_size) {
    return data_of(ElfBytes(bytes, context), name, max_size);
}

}  // namespace junction::core
