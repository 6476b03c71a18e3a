#include <doctest/doctest.h>

#include "test_paths.hpp"

#include <junction/core/loading/elf_symbols.hpp>
#include <junction/core/common/error.hpp>
#include <junction/core/registry/package_file.hpp>

using namespace junction::core;
using namespace junction::testing;

TEST_CASE("sha256 of known bytes") {
    TempDir dir;
    write_file(dir / "abc", "abc");
    CHECK(sha256_file(dir / "abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a durable copy is complete, hashed, and leaves no temporary file") {
    TempDir dir;
    std::string big(300'000, 'x');
    write_file(dir / "src", big);
    const std::string sha = copy_file_durably(dir / "src", dir / "out" / "dest.so");
    CHECK(sha == sha256_file(dir / "src"));
    CHECK(read_text(dir / "out" / "dest.so") == big);
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "out")) ++entries;
    CHECK(entries == 1);
    CHECK_THROWS_AS(copy_file_durably(dir / "missing", dir / "out" / "x"), Error);
}

TEST_CASE("ELF exports of a connector built with the SDK: the entry and the tag only") {
    const ElfExports e = read_elf_exports(plugin_dir() / "jsonl.so");
    REQUIRE(e.find("jn_plugin_negotiate"));
    CHECK(e.find("jn_plugin_negotiate")->is_function);
    REQUIRE(e.find("jn_abi_tag"));
    CHECK(e.symbols.size() == 2);
    CHECK(read_elf_data_symbol(plugin_dir() / "jsonl.so", "jn_abi_tag").value().c_str() ==
          std::string(JN_ABI_TAG));
}

TEST_CASE("ELF reading refuses what is not a shared library") {
    TempDir dir;
    write_file(dir / "text.so", "hello");
    CHECK_THROWS_WITH_AS(read_elf_exports(dir / "text.so"), doctest::Contains("not an ELF file"),
                         Error);
    CHECK_THROWS_WITH_AS(read_elf_exports(bin_dir() / "junction"),
                         doctest::Contains("an executable program, not a shared library"), Error);
}
