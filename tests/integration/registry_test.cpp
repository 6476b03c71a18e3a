// The registry against real libraries: the shipped jsonl connector, a second version of
// it, and fixtures broken in one way each. Every refusal must say what is wrong and leave
// the host working and its store clean.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "test_paths.hpp"

#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/common/error.hpp>

#include <rapidjson/document.h>

#include <random>

using namespace junction::core;
using namespace junction::testing;
namespace fs = std::filesystem;

namespace {

std::string refusal(ConnectorRegistry& registry, const fs::path& package) {
    try {
        registry.install(package);
    } catch (const Error& e) {
        CHECK(e.code() == Errc::plugin_rejected);
        return e.what();
    }
    FAIL("the package was accepted: " << package);
    return {};
}

// Nothing half-installed may stay behind after a refusal.
size_t files_in_store(const fs::path& store) {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(store))
        if (e.is_regular_file()) ++n;
    return n;
}

std::string jsonl_config(const fs::path& file) {
    return R"({"path":")" + file.string() + R"(","page_size":2})";
}

}  // namespace

TEST_CASE("install, list, find, use and restart with the shipped jsonl connector") {
    TempDir dir;
    const fs::path data = dir / "orders.jsonl";
    {
        ConnectorRegistry registry(dir / "store");
        const PackageInfo p = registry.install(plugin_dir() / "jsonl.so");
        CHECK(p.id() == "jsonl@1.0.0");
        CHECK(p.file.parent_path() == dir / "store" / "jsonl");
        CHECK(p.file.filename().string() == "1.0.0-" + p.sha256 + ".so");
        CHECK_FALSE(is_mapped(p.file));  // validated, then let go: nothing uses it yet
        REQUIRE(registry.list().size() == 1);
        auto v = registry.load("jsonl");
        REQUIRE(v);
        CHECK(is_mapped(p.file));
        CHECK(registry.load("jsonl", "1.0.0") == v);  // one loaded copy, shared
        CHECK(registry.load("jsonl", "9.9.9") == nullptr);

        MemoryInstanceState state;
        auto inst = v->create_instance({"orders", jsonl_config(data), &state, {}, {}});
        std::vector<std::string> results;
        inst->invoke("records.send", R"({"records":[{"id":1},{"id":2},{"id":3},7]})",
                     [&](std::string_view p) { results.emplace_back(p); });
        REQUIRE(results.size() == 1);
        CHECK(results[0].find(R"({"index":3,"status":"rejected")") != std::string::npos);
        CHECK(read_text(data) == "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");

        std::vector<std::string> pages;
        auto collect = [&](std::string_view p) { pages.emplace_back(p); };
        inst->invoke("records.receive", R"({"incremental":true})", collect);
        CHECK(pages == std::vector<std::string>{R"([{"id":1},{"id":2}])", R"([{"id":3}])"});
        CHECK(state.get("cursor") == "3");
        pages.clear();
        inst->invoke("records.send", R"({"records":[{"id":4}]})", [](std::string_view) {});
        inst->invoke("records.receive", R"({"incremental":true})", collect);
        CHECK(pages == std::vector<std::string>{R"([{"id":4}])"});
    }
    // A new host process on the same state directory finds what was installed.
    ConnectorRegistry reopened(dir / "store");
    REQUIRE(reopened.list().size() == 1);
    CHECK(reopened.list()[0].id() == "jsonl@1.0.0");  // from the manifest kept beside it
    CHECK(reopened.list()[0].manifest->operations.size() == 2);
}

TEST_CASE("a bad instance config is refused with the field and the reason") {
    TempDir dir;
    ConnectorRegistry registry(dir / "store");
    registry.install(plugin_dir() / "jsonl.so");
    auto v = registry.load("jsonl");
    MemoryInstanceState state;
    auto expect = [&](const std::string& config, const std::string& words) {
        try {
            v->create_instance({"bad", config, &state, {}, {}});
            FAIL("accepted " << config);
        } catch (const Error& e) {
            CHECK(e.code() == Errc::invalid_argument);
            INFO(e.what());
            CHECK(std::string(e.what()).find(words) != std::string::npos);
        }
    };
    expect(R"({})", "missing required field 'path'");
    expect(R"({"path":"/tmp/x","page_size":0})", "at /page_size: is too small");
    expect(R"({"path":"/tmp/x","colour":"red"})", "has a field that is not allowed");
    expect(R"({"path":)", "not valid JSON");
}

TEST_CASE("two versions of one connector load side by side without clashing") {
    TempDir dir;
    ConnectorRegistry registry(dir / "store");
    registry.install(plugin_dir() / "jsonl.so");
    registry.install(fixture("jsonl_v1_1"));
    CHECK(registry.list().size() == 2);
    CHECK(registry.package("jsonl")->version == "1.1.0");  // newest by default
    auto v1 = registry.load("jsonl", "1.0.0");
    auto v2 = registry.load("jsonl", "1.1.0");

    MemoryInstanceState s1, s2;
    auto a = v1->create_instance({"a", jsonl_config(dir / "a.jsonl"), &s1, {}, {}});
    auto b = v2->create_instance({"b", jsonl_config(dir / "b.jsonl"), &s2, {}, {}});
    // Each library answers with its own code: the same hidden symbols did not interpose.
    CHECK(a->test_connection().find(R"("version":"1.0.0")") != std::string::npos);
    CHECK(b->test_connection().find(R"("version":"1.1.0")") != std::string::npos);
    CHECK(is_mapped(v1->file()));
    CHECK(is_mapped(v2->file()));

    const fs::path old_file = v1->file();
    a.reset();
    v1.reset();
    registry.uninstall("jsonl", "1.0.0");
    CHECK_FALSE(is_mapped(old_file));
    CHECK_FALSE(fs::exists(old_file));
    CHECK(b->test_connection().find("1.1.0") != std::string::npos);
}

TEST_CASE("broken packages are refused with a clear reason and the host keeps working") {
    TempDir dir;
    ConnectorRegistry registry(dir / "store");
    registry.install(plugin_dir() / "jsonl.so");
    const size_t files_before = files_in_store(dir / "store");

    std::mt19937 rng(42);
    std::string noise(64 * 1024, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    write_file(dir / "random.so", noise);
    write_file(dir / "text.so", "this is a README, not a library\n");

    struct Case {
        fs::path package;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {dir / "random.so", "not an ELF file"},
        {dir / "text.so", "not an ELF file"},
        {fixture("raw_missing_entry"), "does not export jn_plugin_negotiate"},
        {fixture("raw_abi_tag_v2"), "built for plugin ABI 2.0 but this host speaks ABI 1."},
        {fixture("raw_abi_major_2"), "negotiated ABI 2.0 but this host speaks ABI 1."},
        {fixture("raw_table_too_small"), "smaller (8 bytes) than ABI 1.0 requires"},
        {fixture("raw_null_invoke"), "missing (NULL) function"},
        {fixture("gnu_unique"), "GNU-unique symbol"},
        {fixture("variant_bad_json"), "the manifest is not valid JSON"},
        {fixture("variant_missing_name"), "missing required field 'name'"},
        {fixture("variant_bad_direction"), "at /operations/0/direction: is not one of the allowed"},
        {fixture("variant_bad_schema"), "config_schema is not a valid JSON Schema"},
        {fixture("variant_bad_auth_field"), "'api_key' is not a property of config_schema"},
        {fixture("variant_duplicate_jsonl"), "jsonl@1.0.0 is already installed from a different file"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.package);
        if (c.reason.find("already installed") != std::string::npos) {
            try {
                registry.install(c.package);
                FAIL("duplicate accepted");
            } catch (const Error& e) {
                CHECK(e.code() == Errc::already_exists);
                CHECK(std::string(e.what()).find(c.reason) != std::string::npos);
            }
        } else {
            const std::string message = refusal(registry, c.package);
            INFO(message);
            CHECK(message.find(c.reason) != std::string::npos);
        }
        CHECK(files_in_store(dir / "store") == files_before);
    }
    // The same file twice is a duplicate too.
    try {
        registry.install(plugin_dir() / "jsonl.so");
        FAIL("same file accepted twice");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("already installed from the same file") != std::string::npos);
    }

    // The host is unharmed: the good connector still works.
    REQUIRE(registry.list().size() == 1);
    MemoryInstanceState state;
    auto inst = registry.load("jsonl")->create_instance(
        {"still-ok", jsonl_config(dir / "ok.jsonl"), &state, {}, {}});
    CHECK_NOTHROW(inst->test_connection());
}

TEST_CASE("a plugin returning a status the ABI does not define is treated as internal") {
    TempDir dir;
    ConnectorRegistry registry(dir / "store");
    registry.install(fixture("raw_unknown_status"));
    auto v = registry.load("raw");
    MemoryInstanceState state;
    auto inst = v->create_instance({"u", "{}", &state, {}, {}});
    try {
        inst->invoke("read", "{}", [](std::string_view) {});
        FAIL("unknown status accepted");
    } catch (const Error& e) {
        CHECK(e.plugin_status() == JN_ERR_INTERNAL);
        CHECK(std::string(e.what()).find("returned status 12345") != std::string::npos);
    }
}

TEST_CASE("a 1.0 plugin in a 1.1 host: the fields it did not send read as zero") {
    TempDir dir;
    ConnectorRegistry registry(dir / "store");
    registry.install(fixture("raw_abi_1_0"));  // its table ends before migrate_config
    auto v = registry.load("raw");
    CHECK_FALSE(v->migrate_config("0.9.0", "{}"));      // no migration offered, nothing called
    MemoryInstanceState state;
    auto inst = v->create_instance({"old", "{}", &state, {}, {}});
    std::vector<std::string> pages;
    inst->invoke("read", "{}", [&](std::string_view p) { pages.emplace_back(p); });
    CHECK(pages == std::vector<std::string>{R"([{"id":1}])"});
}

TEST_CASE("scanning a folder installs the good packages and reports the bad ones") {
    TempDir dir;
    fs::create_directories(dir / "drop");
    fs::copy_file(plugin_dir() / "jsonl.so", dir / "drop" / "jsonl.so");
    fs::copy_file(fixture("variant_valid"), dir / "drop" / "variant.so");
    fs::copy_file(fixture("raw_abi_tag_v2"), dir / "drop" / "old.so");
    write_file(dir / "drop" / "notes.txt", "ignored: not a .so");

    ConnectorRegistry registry(dir / "store");
    const ScanReport first = registry.scan(dir / "drop");
    CHECK(first.installed.size() == 2);
    REQUIRE(first.refused.size() == 1);
    CHECK(first.refused[0].file.filename() == "old.so");
    CHECK(first.refused[0].reason.find("ABI 2.0") != std::string::npos);

    const ScanReport again = registry.scan(dir / "drop");  // idempotent
    CHECK(again.installed.empty());
    CHECK(again.unchanged.size() == 2);
    // The dropped files are copies the host never loads or locks: removing them is safe.
    fs::remove_all(dir / "drop");
    CHECK(registry.list().size() == 2);
}

TEST_CASE("versions order numerically, pre-releases first") {
    CHECK(compare_versions("1.2.10", "1.2.9") > 0);
    CHECK(compare_versions("1.0.0", "1.0.0") == 0);
    CHECK(compare_versions("1.0.0-beta", "1.0.0") < 0);
    CHECK(compare_versions("2.0.0", "10.0.0") < 0);
}
