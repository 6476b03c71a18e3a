// A crafted ELF (its string table's offset + size wraps around 2^64) against the real
// programs: junction-plugin-check, a running junctiond's plugin folder and its install API.
// Each refuses it as "not a valid shared library" and nothing crashes. And a file named
// with a newline cannot forge a line in the daemon's log.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "crafted_elf.hpp"
#include "service_processes.hpp"

#include <csignal>
#include <sstream>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kCheck = (bin_dir() / "junction-plugin-check").string();

std::string wrapped_library() { return elf_with_wrapped_string_table(read_text(plugin_dir() / "jsonl.so")); }

// JunctiondProcess keeps its plugin folder next to its state directory.
fs::path plugin_folder(const JunctiondProcess& d) { return d.state_dir().parent_path() / "plugins"; }

// Drops a file into the daemon's folder and has it rescan (SIGHUP), waiting for the verdict.
void drop(const JunctiondProcess& d, const std::string& name, const std::string& bytes, const std::string& verdict) {
    write_file(plugin_folder(d) / name, bytes);
    d.signal(SIGHUP);
    REQUIRE_MESSAGE(wait_for_text(d.log_file(), verdict, 60s), read_text(d.log_file()));
}

std::vector<std::string> lines_of(const fs::path& file) {
    std::vector<std::string> lines;
    std::istringstream in(read_text(file));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

void check_alive(const JunctiondProcess& d) {
    CHECK(http_call("GET", d.url() + "/healthz").status == 200);
    CHECK(d.call("GET", "/v1/connectors").status == 200);
}

}  // namespace

TEST_CASE("junction-plugin-check refuses the wrapped ELF with a clear message instead of crashing") {
    TempDir dir;
    write_file(dir / "wrapped.so", wrapped_library());
    const RunResult r = run_program({kCheck, (dir / "wrapped.so").string()});
    INFO(r.output);
    CHECK(r.exit_code == 1);  // not conformant, like any other refusal; not a signal (-1)
    CHECK(r.output.find("FAIL  " + (dir / "wrapped.so").string() +
                        ": not a valid shared library: the dynamic string table has an offset or size that overflows") !=
          std::string::npos);
}

TEST_CASE("junctiond refuses the wrapped ELF from its folder and from the install API, and keeps running") {
    JunctiondProcess d({"jsonl.so"});
    const fs::path dropped = plugin_folder(d) / "wrapped.so";
    drop(d, "wrapped.so", wrapped_library(), "package refused: " + dropped.string() + ": not a valid shared library");
    check_alive(d);

    const HttpAnswer install = d.call("POST", "/v1/connectors/upload?file=upload.so", wrapped_library());
    CHECK(install.status == 422);
    CHECK_MESSAGE(install.body.find("not a valid shared library: the dynamic string table has an offset or size that overflows") !=
                      std::string::npos,
                  install.body);
    check_alive(d);
    CHECK(d.call("GET", "/v1/connectors").body.find("\"jsonl\"") != std::string::npos);  // what was there still is
}

TEST_CASE("a file named with a newline is one escaped log line, not a forged second one") {
    JunctiondProcess d({"jsonl.so"});
    const std::string forged = "2026-12-03T07:00:00.000Z error [registry] all connectors removed";
    const std::string name = "evil\n" + forged + ".so";
    const std::string escaped = "evil\\n" + forged + ".so";
    drop(d, name, "not a library", "package refused: " + (plugin_folder(d) / escaped).string());
    check_alive(d);

    size_t refusals = 0;
    for (const auto& line : lines_of(d.log_file())) {
        CHECK_MESSAGE(line.rfind(forged, 0) != 0, "a forged line: " << line);
        if (line.find("package refused: ") != std::string::npos && line.find(escaped) != std::string::npos) {
            ++refusals;
            CHECK(line.find("not an ELF file") != std::string::npos);  // the name and the reason on one line
        }
    }
    CHECK(refusals == 1);
}
