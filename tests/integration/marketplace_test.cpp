// The marketplace with a real catalogue made by junction-publish, read from a directory
// and over HTTP from a loopback server: search, install the newest compatible version,
// offer updates, and refuse a package whose bytes or signature do not match.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "child_process.hpp"
#include "embedded_host.hpp"
#include "http_test_server.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/marketplace/marketplace.hpp>
#include <junction/core/marketplace/package_signature.hpp>

using namespace junction::core;
using namespace junction::testing;
namespace fs = std::filesystem;

namespace {

// A publisher: a key pair and a catalogue directory with conformance 1.0.0 and 1.1.0.
struct Publisher {
    TempDir dir;
    fs::path catalogue = dir / "catalogue";
    std::string publish = (bin_dir() / "junction-publish").string();

    Publisher() {
        REQUIRE(run_program({publish, "keygen", "--private", (dir / "key.pem").string(), "--public",
                             (dir / "key.pub").string()}).exit_code == 0);
        add(fixture("conformance"), "first release");
        add(fixture("conformance_v1_1"), "faster pages");
    }
    void add(const fs::path& package, const std::string& notes) {
        auto r = run_program({publish, "add", package.string(), "--key", (dir / "key.pem").string(),
                              "--catalogue", catalogue.string(), "--notes", notes});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
    }
};

// Serves the catalogue directory over HTTP.
CannedResponse serve(const fs::path& root, const RecordedRequest& r) {
    const fs::path file = root / r.target.substr(1);
    if (r.target.find("..") != std::string::npos || !fs::exists(file)) return {404, {}, "not found"};
    return {200, {{"Content-Type", "application/octet-stream"}}, read_text(file)};
}

}  // namespace

TEST_CASE("signatures: made by one key, checked against it, refused for another or other bytes") {
    const KeyPairPem a = generate_signing_key(), b = generate_signing_key();
    const std::string sha(64, 'a');
    const std::string sig = sign_package(a.private_pem, sha);
    CHECK(verify_package(a.public_pem, sha, sig));
    CHECK_FALSE(verify_package(b.public_pem, sha, sig));
    CHECK_FALSE(verify_package(a.public_pem, std::string(64, 'b'), sig));
    CHECK_FALSE(verify_package(a.public_pem, sha, "not base64!"));
    CHECK_THROWS_AS(verify_package("garbage", sha, sig), Error);
}

TEST_CASE("install from a directory catalogue, and updates offered against what runs") {
    Publisher pub;
    EmbeddedHost h;
    Marketplace market(pub.catalogue.string(), pub.dir / "key.pub", h.registry, h.updates);
    const auto found = market.list("conformance");
    REQUIRE(found.size() == 1);
    CHECK(found[0].versions.size() == 2);
    CHECK(market.list("no-such-thing").empty());

    const PackageInfo first = market.install("conformance", "1.0.0", "admin");
    CHECK(first.version == "1.0.0");
    CHECK(h.updates.status("conformance").state.active_version == "1.0.0");
    const auto offers = market.updates();
    REQUIRE(offers.size() == 1);
    CHECK(offers[0].available_version == "1.1.0");
    CHECK(offers[0].release_notes == "faster pages");

    market.install("conformance", "", "admin");  // newest compatible
    CHECK(h.updates.apply("conformance", "1.1.0", "admin").switched);
    CHECK(market.updates().empty());
}

TEST_CASE("install over HTTP; tampered bytes and foreign signatures are refused") {
    Publisher pub;
    HttpTestServer server([&](const RecordedRequest& r) { return serve(pub.catalogue, r); });
    EmbeddedHost h;
    Marketplace market(server.url("/"), pub.dir / "key.pub", h.registry, h.updates);
    CHECK(market.install("conformance", "1.0.0", "admin").version == "1.0.0");

    // Flip one byte of the 1.1.0 package on the server: the hash no longer matches.
    const fs::path pkg = pub.catalogue / "conformance-1.1.0.so";
    std::string bytes = read_text(pkg);
    bytes[bytes.size() / 2] ^= 0x5a;
    write_file(pkg, bytes);
    CHECK_THROWS_WITH_AS(market.install("conformance", "1.1.0", "admin"),
                         doctest::Contains("does not match the catalogue's"), Error);

    // A catalogue re-signed by someone else's key: the hash matches, the signature does not.
    Publisher other;
    Marketplace forged(other.catalogue.string(), pub.dir / "key.pub", h.registry, h.updates);
    CHECK_THROWS_WITH_AS(forged.install("conformance", "1.1.0", "admin"),
                         doctest::Contains("not made by a trusted key"), Error);
    CHECK(h.registry.list().size() == 1);  // nothing unverified was installed
}

TEST_CASE("versions for another ABI are listed as incompatible and never installed") {
    CHECK(abi_compatible("1.0"));
    CHECK(abi_compatible("1.1"));
    CHECK_FALSE(abi_compatible("1.9"));
    CHECK_FALSE(abi_compatible("2.0"));
    Publisher pub;
    std::string index = read_text(pub.catalogue / "index.json");
    const size_t at = index.rfind("\"min_abi\": \"") + 12;  // the newest version's
    index.replace(at, index.find('"', at) - at, "2.0");
    write_file(pub.catalogue / "index.json", index);
    EmbeddedHost h;
    Marketplace market(pub.catalogue.string(), pub.dir / "key.pub", h.registry, h.updates);
    CHECK(market.install("conformance", "", "admin").version == "1.0.0");  // newest compatible
    CHECK_THROWS_WITH_AS(market.install("conformance", "1.1.0", "admin"), doctest::Contains("needs plugin ABI 2.0"),
                         Error);
}

namespace {

// The catalogue directory over HTTPS: `openssl s_server -WWW` with a fresh self-signed
// certificate for 127.0.0.1, a real TLS peer the host's libcurl must verify.
struct TlsCatalogueServer {
    explicit TlsCatalogueServer(const fs::path& root) {
        auto made = run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                                 "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                                 (dir / "key.pem").string(), "-out", ca_file.string()});
        INFO(made.output);
        REQUIRE(made.exit_code == 0);
        server = std::make_unique<ChildProcess>(
            std::vector<std::string>{"/bin/sh", "-c",
                                     "cd '" + root.string() + "' && exec openssl s_server -WWW "
                                     "-accept 127.0.0.1:0 -cert '" + ca_file.string() + "' -key '" +
                                     (dir / "key.pem").string() + "'"},
            log);
        REQUIRE(wait_for_text(log, "ACCEPT 127.0.0.1:", std::chrono::seconds(10)));
        const std::string text = read_text(log);
        const size_t at = text.find("ACCEPT 127.0.0.1:") + 17;
        url = "https://127.0.0.1:" + std::to_string(std::stoi(text.substr(at))) + "/";
    }
    TempDir dir;
    fs::path ca_file = dir / "ca.pem";
    fs::path log = dir / "server.log";
    std::unique_ptr<ChildProcess> server;
    std::string url;
};

}  // namespace

TEST_CASE("an HTTPS catalogue is verified against the trusted CAs; an untrusted certificate is refused") {
    Publisher pub;
    TlsCatalogueServer tls(pub.catalogue);
    EmbeddedHost h;

    // The system CAs do not know the server's certificate: refused, nothing installed.
    Marketplace untrusted(tls.url, pub.dir / "key.pub", h.registry, h.updates);
    std::string refusal;
    try {
        untrusted.list();
    } catch (const Error& e) {
        refusal = e.message();
    }
    INFO(refusal);
    CHECK(refusal.find("cannot fetch " + tls.url + "index.json") != std::string::npos);
    CHECK(refusal.find("certificate") != std::string::npos);
    CHECK(h.registry.list().empty());

    // With the server's CA trusted (ca-file), the same catalogue lists and installs.
    HttpOptions http;
    http.ca_file = tls.ca_file.string();
    Marketplace market(tls.url, pub.dir / "key.pub", h.registry, h.updates, http);
    CHECK(market.list().size() == 1);
    CHECK(market.install("conformance", "1.1.0", "admin").version == "1.1.0");
    CHECK(h.registry.list().size() == 1);
}
