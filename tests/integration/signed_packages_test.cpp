// "Signed means signed" (issue 15, decision 0016), on the real registry and the real daemon
// with real connector libraries:
// - the bytes checked are the bytes installed: the original is replaced by other, unsigned
//   bytes *after* the registry staged it and *before* the signature check runs (the check
//   itself swaps it, so the order is certain, with no hook in the product), and what
//   installs hashes to the signed bytes;
// - a .sig dropped after its library lets it install without touching the library;
//   SIGHUP looks at refused files again (a key added to the keyring meanwhile);
// - several trusted keys, and each install records which one signed it;
// - the API installs uploads under the folder's policy, and paths only from the plugin folder.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "child_process.hpp"
#include "daemon_waits.hpp"
#include "service_processes.hpp"
#include "test_paths.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/marketplace/package_trust.hpp>
#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/registry/package_file.hpp>

#include <csignal>

using namespace junction::testing;
using namespace junction::core;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string publish() { return (bin_dir() / "junction-publish").string(); }

void keygen(const fs::path& private_pem, const fs::path& public_pem) {
    REQUIRE(run_program({publish(), "keygen", "--private", private_pem.string(), "--public", public_pem.string()})
                .exit_code == 0);
}

// Writes <file>.sig beside `file`.
void sign(const fs::path& file, const fs::path& private_pem) {
    REQUIRE(run_program({publish(), "sign", file.string(), "--key", private_pem.string()}).exit_code == 0);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A daemon that takes signed packages only: key "market" is marketplace-key, key
// "operator" lies in the trusted-keys folder. Packages are prepared in `work` and moved
// into the plugin folder `drop`.
struct SignedDaemon {
    TempDir dir;
    fs::path work = dir / "work", drop = dir / "drop", keys = dir / "trusted-keys", log = dir / "junctiond.log";
    std::unique_ptr<ChildProcess> process;
    std::string url, token;

    explicit SignedDaemon(const std::string& watch) {
        for (const auto& d : {work, drop, keys}) fs::create_directories(d);
        keygen(work / "market.pem", work / "market.pub");
        keygen(work / "operator.pem", keys / "operator.pub");
        process = std::make_unique<ChildProcess>(
            std::vector<std::string>{(bin_dir() / "junctiond").string(), "--state-dir", (dir / "state").string(),
                                     "--plugin-dir", drop.string(), "--listen", "127.0.0.1:0", "--plugin-watch", watch,
                                     "--marketplace-key", (work / "market.pub").string(), "--trusted-keys",
                                     keys.string()},
            log);
        url = admin_url_from_log(log);
        token = read_text(dir / "state" / "admin.token");
        while (!token.empty() && token.back() == '\n') token.pop_back();
    }
    ~SignedDaemon() {
        process->signal(SIGTERM);
        process->wait(20s);
    }
    HttpAnswer call(const std::string& method, const std::string& path, const std::string& body = {}) const {
        return http_call(method, url + path, body, {{"Authorization", "Bearer " + token}});
    }
    RunResult cli(std::vector<std::string> args) const {
        std::vector<std::string> argv = {(bin_dir() / "junction").string(), "--url", url, "--token", token};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(argv);
    }
    std::string connectors() const { return call("GET", "/v1/connectors").body; }
    // A copy of `package` in `work` named `name`, signed with `key` (none: unsigned).
    fs::path prepare(const fs::path& package, const std::string& name, const fs::path& key = {}) const {
        fs::copy_file(package, work / name, fs::copy_options::overwrite_existing);
        if (!key.empty()) sign(work / name, key);
        return work / name;
    }
};

}  // namespace

TEST_CASE("the bytes checked are the bytes installed, though the original is swapped after staging") {
    TempDir dir;
    fs::create_directories(dir / "drop");
    keygen(dir / "key.pem", dir / "key.pub");
    const fs::path dropped = dir / "drop" / "jsonl.so";
    fs::copy_file(plugin_dir() / "jsonl.so", dropped);
    sign(dropped, dir / "key.pem");
    const std::string signed_sha = sha256_file(dropped), other_sha = sha256_file(fixture("jsonl_v1_1"));
    REQUIRE(signed_sha != other_sha);

    const PackageTrust trust({false, "allow-unsigned-drops", dir / "key.pub", {}});
    ConnectorRegistry registry(dir / "store");
    // The check runs on the staged copy's hash; by then the original holds other bytes
    // (unsigned: its .sig is for the first ones). Were the original read again after the
    // check, those would install.
    bool swapped = false;
    registry.set_scan_check([&](const fs::path& file, const std::string& sha) {
        fs::copy_file(fixture("jsonl_v1_1"), file, fs::copy_options::overwrite_existing);
        swapped = true;
        return trust.check_file(file, sha);
    });
    const ScanReport first = registry.scan(dir / "drop");
    REQUIRE(swapped);
    REQUIRE(first.installed.size() == 1);
    CHECK(first.installed[0].sha256 == signed_sha);
    CHECK(sha256_file(first.installed[0].file) == signed_sha);  // the store holds the signed bytes
    CHECK(first.installed[0].signed_by.key_file == "key.pub");
    CHECK(sha256_file(dropped) == other_sha);                    // the folder holds the others

    // The swapped file, looked at on its own, is what it is: unsigned, refused.
    registry.set_scan_check([&](const fs::path& file, const std::string& sha) { return trust.check_file(file, sha); });
    const ScanReport second = registry.scan(dir / "drop");
    REQUIRE(second.refused.size() == 1);
    CHECK(has(second.refused[0].reason, "not made by a trusted key"));
    CHECK(registry.list().size() == 1);

    // The same through install() (an API path): the check sees the staged hash only.
    fs::copy_file(fixture("jsonl_v1_1"), dir / "again.so");
    sign(dir / "again.so", dir / "key.pem");
    const PackageInfo again = registry.install(dir / "again.so", [&](const std::string&, const std::string& sha) {
        fs::copy_file(plugin_dir() / "jsonl.so", dir / "again.so", fs::copy_options::overwrite_existing);
        return trust.check_file(dir / "again.so", sha);  // its .sig is for the staged bytes
    });
    CHECK(again.sha256 == other_sha);
    CHECK(sha256_file(again.file) == other_sha);
}

TEST_CASE("a .sig dropped after its library installs it, with inotify and with polling") {
    for (const std::string watch : {"inotify", "poll"}) {
        CAPTURE(watch);
        SignedDaemon d(watch);
        const fs::path pkg = d.prepare(plugin_dir() / "jsonl.so", "jsonl.so", d.work / "market.pem");
        fs::rename(pkg, d.drop / "jsonl.so");  // the library first, the natural order
        REQUIRE(wait_for_text(d.log, "the package is not signed", 30s));
        CHECK_FALSE(has(d.connectors(), "\"jsonl\""));
        fs::rename(d.work / "jsonl.so.sig", d.drop / "jsonl.so.sig");  // the library is not touched
        CHECK(eventually([&] { return has(d.connectors(), "\"jsonl\""); }));
        CHECK(has(d.connectors(), "market.pub"));
    }
}

TEST_CASE("SIGHUP looks at refused files again: a key added to the keyring lets a refused drop in") {
    TempDir keys;
    keygen(keys / "third.pem", keys / "third.pub");
    SignedDaemon d("off");
    d.prepare(plugin_dir() / "jsonl.so", "jsonl.so", keys / "third.pem");
    fs::rename(d.work / "jsonl.so.sig", d.drop / "jsonl.so.sig");
    fs::rename(d.work / "jsonl.so", d.drop / "jsonl.so");
    d.process->signal(SIGHUP);  // the first look: refused
    CHECK(wait_for_text(d.log, "not made by a trusted key", 30s));
    CHECK_FALSE(has(d.connectors(), "\"jsonl\""));

    fs::copy_file(keys / "third.pub", d.keys / "third.pub");  // the drop is unchanged
    d.process->signal(SIGHUP);
    CHECK(wait_for_text(d.log, "looking again at 1 refused file(s)", 30s));
    CHECK(eventually([&] { return has(d.connectors(), "\"jsonl\""); }));
    CHECK(has(d.connectors(), "third.pub"));
}

TEST_CASE("two trusted keys: uploads signed by either install and say which; unsigned ones are refused") {
    SignedDaemon d("off");
    // Unsigned: refused under the signed-only policy, with what to do.
    const fs::path plain = d.prepare(plugin_dir() / "jsonl.so", "jsonl.so");
    const HttpAnswer refused = d.call("POST", "/v1/connectors/upload?file=jsonl.so", read_text(plain));
    CHECK(refused.status == 422);
    CHECK(has(refused.body, "not signed"));
    CHECK(has(refused.body, "allow-unsigned-drops"));
    // A signature by an untrusted key: refused too.
    TempDir other;
    keygen(other / "k.pem", other / "k.pub");
    d.prepare(plugin_dir() / "jsonl.so", "jsonl.so", other / "k.pem");
    const auto forged = d.cli({"connectors", "install", (d.work / "jsonl.so").string()});
    CHECK(forged.exit_code != 0);
    CHECK(has(forged.output, "not made by a trusted key"));
    CHECK_FALSE(has(d.connectors(), "\"jsonl\""));

    // Signed by the operator's key (trusted-keys folder), through the CLI (FILE.sig by default).
    d.prepare(plugin_dir() / "jsonl.so", "jsonl.so", d.work / "operator.pem");
    const auto by_operator = d.cli({"connectors", "install", (d.work / "jsonl.so").string()});
    INFO(by_operator.output);
    CHECK(by_operator.exit_code == 0);
    CHECK(has(by_operator.output, "signed by ed25519:"));
    CHECK(has(by_operator.output, "operator.pub"));
    // Signed by the marketplace key, its signature named with --sig.
    d.prepare(fixture("conformance"), "conformance.so", d.work / "market.pem");
    fs::rename(d.work / "conformance.so.sig", d.work / "detached.sig");
    const auto by_market = d.cli({"connectors", "install", (d.work / "conformance.so").string(), "--sig",
                                  (d.work / "detached.sig").string()});
    INFO(by_market.output);
    CHECK(by_market.exit_code == 0);
    CHECK(has(by_market.output, "market.pub"));

    const auto list = d.cli({"connectors", "list"});
    CHECK(has(list.output, "SIGNED BY"));
    CHECK(has(list.output, "operator.pub"));
    CHECK(has(list.output, "market.pub"));
    const HttpAnswer shown = d.call("GET", "/v1/connectors/jsonl");
    CHECK(has(shown.body, R"("signed_by":{"key_id":"ed25519:)"));
    CHECK(has(shown.body, R"("key_file":"operator.pub")"));
}

TEST_CASE("a path is installed only from the plugin folder, under its policy") {
    SignedDaemon d("off");
    d.prepare(plugin_dir() / "jsonl.so", "jsonl.so", d.work / "market.pem");
    const HttpAnswer outside =
        d.call("POST", "/v1/connectors", R"({"file":)" + json_text((d.work / "jsonl.so").string()) + "}");
    CHECK(outside.status == 403);
    CHECK(has(outside.body, "only from its plugin folder"));
    CHECK(has(outside.body, "junction connectors install"));
    const HttpAnswer escape = d.call("POST", "/v1/connectors", R"({"file":"../work/jsonl.so"})");
    CHECK(escape.status == 403);
    // A link in the folder to a file outside it is outside it.
    fs::create_symlink(d.work / "jsonl.so", d.drop / "link.so");
    CHECK(d.call("POST", "/v1/connectors", R"({"file":"link.so"})").status == 403);
    CHECK_FALSE(has(d.connectors(), "\"jsonl\""));

    // Inside the folder, by its name, with its .sig beside it: installed and recorded.
    fs::remove(d.drop / "link.so");
    fs::rename(d.work / "jsonl.so.sig", d.drop / "inside.so.sig");
    fs::rename(d.work / "jsonl.so", d.drop / "inside.so");
    const HttpAnswer inside = d.call("POST", "/v1/connectors", R"({"file":"inside.so"})");
    INFO(inside.body);
    CHECK(inside.status == 201);
    CHECK(has(d.connectors(), "market.pub"));
}

TEST_CASE("a library swapped right after its signed drop never installs unsigned") {
    SignedDaemon d("inotify");
    d.prepare(plugin_dir() / "jsonl.so", "jsonl.so", d.work / "market.pem");
    d.prepare(fixture("jsonl_v1_1"), "swap.so");
    const std::string unsigned_sha = sha256_file(d.work / "swap.so");
    fs::rename(d.work / "jsonl.so.sig", d.drop / "jsonl.so.sig");
    fs::rename(d.work / "jsonl.so", d.drop / "jsonl.so");
    fs::rename(d.work / "swap.so", d.drop / "jsonl.so");  // at once, racing the scan
    // Whatever the scan saw, the swapped bytes are refused in the end...
    CHECK(wait_for_text(d.log, "not made by a trusted key", 30s));
    // ...and never installed.
    CHECK_FALSE(has(d.connectors(), unsigned_sha));
}

TEST_CASE("polling notices connector definitions (*.connector.json) too") {
    SignedDaemon d("poll");
    for (const std::string file : {"rest.so", "shopify.connector.json"}) {
        d.prepare(plugin_dir() / file, file, d.work / "operator.pem");
        fs::rename(d.work / (file + ".sig"), d.drop / (file + ".sig"));
        fs::rename(d.work / file, d.drop / file);
    }
    CHECK(eventually([&] { return has(d.connectors(), "\"shopify\""); }));
    // Listed once installed; shown once the update service has it too (just after).
    CHECK(eventually([&] { return has(d.call("GET", "/v1/connectors/shopify").body, "operator.pub"); }));
}
