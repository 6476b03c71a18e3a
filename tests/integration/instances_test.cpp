// Instances end to end in core: the seed scenarios with real connector libraries, each
// instance's plugin seeing only its own credentials (checked at a real HTTP server), the
// config validated per field, statuses, and the live-instance cache.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "embedded_host.hpp"
#include "http_test_server.hpp"

#include <junction/core/common/error.hpp>

#include <rapidjson/document.h>

#include <thread>

using namespace junction::core;
using namespace junction::testing;

namespace {

struct Host : EmbeddedHost {
    Host() : EmbeddedHost(2) {
        install(fixture("conformance"));
        install(plugin_dir() / "jsonl.so");
    }

    InstanceView add_store(const std::string& name, const std::string& token) {
        return service.create({"conformance", name, "", R"({"label":")" + name +
                                                            R"(","api_token":")" + token + R"("})", ""});
    }

    // Runs the conformance connector's "exercise" for an instance: it calls the server
    // with the token from its own config.
    void exercise(const std::string& name, const HttpTestServer& server) {
        auto live = runtime.acquire(name);
        live->plugin->invoke("exercise", R"({"url":")" + server.url("/" + name) + R"("})",
                                [](std::string_view) {});
    }
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("no error");
    return {};
}

}  // namespace

TEST_CASE("seed: one Shopify-like instance next to one NetSuite-like instance") {
    Host h;
    auto shop = h.add_store("shopify-main", "shpat_main_0001");
    auto sink = h.service.create({"jsonl", "netsuite-main", "", R"({"path":")" + (h.dir / "ns.jsonl").string() + R"("})", ""});
    CHECK(shop.connector == "conformance");
    CHECK(sink.connector == "jsonl");
    CHECK(h.service.list({}).items.size() == 2);
    CHECK(h.service.test("shopify-main").status == "ok");
    CHECK(h.service.test("netsuite-main").status == "ok");
}

TEST_CASE("seed: three stores (UK, EU, US) of one connector, each with its own credentials") {
    Host h;
    HttpTestServer server([](const RecordedRequest&) { return CannedResponse{200, {}, "ok"}; });
    const std::map<std::string, std::string> tokens = {
        {"shopify-uk", "shpat_uk_1111"}, {"shopify-eu", "shpat_eu_2222"}, {"shopify-us", "shpat_us_3333"}};
    for (const auto& [name, token] : tokens) h.add_store(name, token);
    h.service.create({"jsonl", "netsuite", "", R"({"path":")" + (h.dir / "ns.jsonl").string() + R"("})", ""});
    CHECK(h.registry.list().size() == 2);  // one connector installed once, three instances

    for (const auto& [name, token] : tokens) h.exercise(name, server);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    for (const auto& r : requests) {
        const std::string name = r.target.substr(1);
        CAPTURE(name);
        CHECK(r.headers.at("x-token") == tokens.at(name));  // its own credential, nobody else's
        CHECK(r.body == "ping from " + name);
    }
    // The cache keeps at most 2 idle plugin objects; the third call evicted the first.
    CHECK(h.runtime.live_count() == 2);
}

TEST_CASE("views never hold a credential; the store holds only sealed values") {
    Host h;
    const std::string token = "shpat_very_secret_42";
    const auto v = h.add_store("shopify-uk", token);
    CHECK(v.to_json().find(token) == std::string::npos);
    CHECK(v.to_json().find(R"("api_token":"***")") != std::string::npos);
    CHECK(v.secret_fields == std::vector<std::string>{"api_token"});
    const auto rec = *h.store->find_instance("shopify-uk");
    CHECK(rec.settings_json.find(token) == std::string::npos);
    REQUIRE(rec.secrets.size() == 1);
    CHECK(rec.secrets[0].ciphertext.find(token) == std::string::npos);
    CHECK(h.secrets.open(rec.id, rec.secrets[0]) == token);
}

TEST_CASE("a config is checked field by field against the connector's schema") {
    Host h;
    const std::string e = error_of([&] {
        h.service.create({"jsonl", "bad", "", R"({"page_size": 0, "colour": "red"})", ""});
    });
    CHECK(e.find("field 'path' is required") != std::string::npos);
    CHECK(e.find("field 'page_size' is too small") != std::string::npos);
    CHECK(e.find("field 'colour' is not a known setting") != std::string::npos);
    try {
        h.service.create({"jsonl", "bad", "", R"({"page_size": 0})", ""});
    } catch (const Error& err) {
        CHECK(err.details().size() == 2);  // one per field
    }
    CHECK(error_of([&] { h.service.create({"nope", "x", "", "{}", ""}); }).find("not installed") != std::string::npos);
    CHECK(error_of([&] { h.service.create({"jsonl", "Bad Name", "", "{}", ""}); }).find("is not valid") != std::string::npos);
    CHECK(error_of([&] { h.service.create({"jsonl", "x", "oauth", "{}", ""}); }).find("no auth method 'oauth'") != std::string::npos);
    h.add_store("dup", "t0000");
    CHECK(error_of([&] { h.add_store("dup", "t1111"); }).find("already exists") != std::string::npos);
}

TEST_CASE("update is partial, re-seals credentials and resets the test status") {
    Host h;
    h.add_store("uk", "old-token-1");
    CHECK(h.service.test("uk").status == "ok");
    InstanceChanges c;
    c.config_patch_json = R"({"label":"uk-renamed"})";
    auto v = h.service.update("uk", c);
    CHECK(v.status == "untested");
    CHECK(v.settings_json.find("uk-renamed") != std::string::npos);
    const auto rec = *h.store->find_instance("uk");
    CHECK(h.secrets.open(rec.id, rec.secrets[0]) == "old-token-1");  // kept when not given

    c.config_patch_json = R"({"api_token":"new-token-2"})";
    c.name = "uk-2";
    h.service.update("uk", c);
    const auto rec2 = *h.store->find_instance("uk-2");
    CHECK(h.secrets.open(rec2.id, rec2.secrets[0]) == "new-token-2");

    c = {};
    c.config_patch_json = R"({"api_token":null})";
    CHECK(error_of([&] { h.service.update("uk-2", c); }).find("'api_token' is required") != std::string::npos);
}

TEST_CASE("statuses: failing tests are recorded with a redacted reason; a missing connector shows") {
    Host h;
    h.add_store("refuser", "tok-abcdef");
    InstanceChanges c;
    c.config_patch_json = R"({"label":"refuse"})";  // the conformance plugin refuses this label
    h.service.update("refuser", c);
    auto v = h.service.test("refuser");
    CHECK(v.status == "failing");
    CHECK(v.status_detail.find("refused on purpose") != std::string::npos);

    h.service.create({"jsonl", "files", "", R"({"path":"/tmp/x.jsonl"})", ""});
    CHECK_THROWS_WITH_AS(h.service.check_uninstall_allowed("jsonl"), doctest::Contains("files"), Error);
    h.registry.uninstall("jsonl");  // forced, behind the service's back
    h.updates.after_uninstall("jsonl", "", "test");
    CHECK(h.service.show("files").status == "connector_missing");
    CHECK(h.service.test("files").status == "connector_missing");  // says why it fails
    h.service.remove("files");
    CHECK_NOTHROW(h.service.check_uninstall_allowed("jsonl"));
}

TEST_CASE("paging through instances") {
    Host h;
    for (int i = 0; i < 7; ++i) h.add_store("s" + std::to_string(i), "tok-" + std::to_string(i) + "xxxx");
    InstanceQuery q;
    q.limit = 3;
    size_t seen = 0;
    for (;;) {
        auto page = h.service.list(q);
        seen += page.items.size();
        if (page.next_after.empty()) break;
        q.after_name = page.next_after;
    }
    CHECK(seen == 7);
}

TEST_CASE("callers that miss the cache together share one plugin object") {
    Host h;
    h.add_store("busy", "shpat_busy_0001");
    for (int round = 0; round < 5; ++round) {
        h.runtime.forget(h.service.show("busy").id);
        std::vector<LiveInstancePtr> got(8);
        std::vector<std::thread> threads;
        for (size_t t = 0; t < got.size(); ++t) threads.emplace_back([&, t] { got[t] = h.runtime.acquire("busy"); });
        for (auto& t : threads) t.join();
        for (const auto& live : got) CHECK(live.get() == got[0].get());
    }
}
