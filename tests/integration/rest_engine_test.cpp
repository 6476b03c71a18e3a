// The REST engine against the simulators: real junction-sim processes on loopback, the
// engine loaded from rest.so through the registry like any connector, every request going
// through the host's libcurl. Each auth method, each pagination strategy, Shopify and
// NetSuite as shipped, and the failures: 429 storms, 500s, slow answers, malformed JSON,
// a 2 GB response, wrong credentials, bad manifests.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"
#include "embedded_host.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/net/http_client.hpp>
#include <junction/core/marketplace/marketplace.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <fstream>
#include <thread>

using namespace junction::core;
using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A junction-sim process and its control endpoints.
struct Simulator : SimulatorProcess {
    using SimulatorProcess::SimulatorProcess;
    rapidjson::Document received() const {
        rapidjson::Document d;
        d.Parse(control("GET", "/_sim/received").body.c_str());
        return d;
    }
    void fault(const std::string& json) const { REQUIRE(control("POST", "/_sim/faults", json).status == 200); }
};

// A host with the REST engine installed.
struct RestHost : EmbeddedHost {
    explicit RestHost(Isolation isolation = Isolation::process) : EmbeddedHost(256, isolation) {
        install(plugin_dir() / "rest.so");
    }
    // The lines the connector wrote about receive calls (call_log), as "level: line".
    std::vector<std::string> call_lines;

    // Installs a manifest given as text.
    PackageInfo install_manifest(const std::string& name, const std::string& json) {
        const fs::path file = dir / (name + ".connector.json");
        std::ofstream(file) << json;
        return install(file);
    }
    std::string add(const std::string& connector, const std::string& name, const std::string& config) {
        return service.create({connector, name, "", config, ""}).id;
    }
    // Runs a receive; returns the ids of the records, in order.
    std::vector<int64_t> receive(const std::string& instance, const std::string& op, const std::string& request = "{}",
                                 size_t* pages = nullptr) {
        std::vector<int64_t> ids;
        size_t n = 0;
        CallOptions call_options;
        call_options.on_log = [this](uint32_t level, std::string_view line) {
            call_lines.push_back(std::to_string(level) + ": " + std::string(line));
        };
        runtime.acquire(instance)->plugin->invoke(op, request, [&](std::string_view page) {
            rapidjson::Document d;
            d.Parse(page.data(), page.size());
            REQUIRE(d.IsArray());
            for (const auto& r : d.GetArray()) {
                const auto& id = r["id"];  // Shopify ids are numbers, NetSuite's numeric strings
                REQUIRE((id.IsInt64() || id.IsString()));
                ids.push_back(id.IsInt64() ? id.GetInt64() : std::stoll(id.GetString()));
            }
            ++n;
        }, call_options);
        if (pages) *pages = n;
        return ids;
    }
    std::string send(const std::string& instance, const std::string& op, const std::string& records) {
        std::string result;
        runtime.acquire(instance)->plugin->invoke(op, R"({"records":)" + records + "}",
                                                  [&](std::string_view page) { result.assign(page); });
        return result;
    }
};

// A lab manifest: one endpoint per pagination strategy, the given auth method.
std::string lab_manifest(const std::string& name, const std::string& auth_json, const std::string& extra = {}) {
    return R"({"engine":"rest","manifest_version":1,"name":")" + name + R"(","version":"1.0.0",
      "display_name":"Lab","description":"every strategy",
      "base_url":"{{settings.url}}/lab","settings":{"url":{"type":"string"}},"required_settings":["url"],
      "retry":{"max_attempts":3,"initial_backoff_ms":10,"max_backoff_ms":50},
      "timeouts":{"request_ms":2000},)" + extra + R"(
      "auth_methods":[)" + auth_json + R"(],
      "endpoints":[
        {"name":"link","direction":"receive","method":"GET","path":"/link","pagination":{"type":"link_header"}},
        {"name":"next_url","direction":"receive","method":"GET","path":"/next_url","records":"/items",
         "pagination":{"type":"next_url","path":"/next"}},
        {"name":"cursor","direction":"receive","method":"GET","path":"/cursor","records":"/data",
         "pagination":{"type":"cursor","path":"/meta/next_cursor","param":"cursor"}},
        {"name":"pages","direction":"receive","method":"GET","path":"/pages","records":"/results",
         "pagination":{"type":"page_number","param":"page","size_param":"per_page","size":10}},
        {"name":"offset","direction":"receive","method":"GET","path":"/offset","records":"/rows",
         "pagination":{"type":"offset","param":"offset","size_param":"limit","size":10}},
        {"name":"graphql","direction":"receive","method":"POST","path":"/graphql","records":"/data/items/nodes",
         "body":{"query":"query($first:Int,$after:String){items(first:$first,after:$after){nodes{id name} pageInfo{hasNextPage endCursor}}}",
                 "variables":{"first":10}},
         "pagination":{"type":"graphql","path":"/data/items/pageInfo","param":"after"}},
        {"name":"items.send","direction":"send","method":"POST","path":"/items","body":{"name":"{{record.name}}","reject":"{{record.reject}}"}},
        {"name":"items.merge","direction":"send","method":"POST","path":"/items","pass_on":"merge"},
        {"name":"items.under","direction":"send","method":"POST","path":"/items","pass_on":{"under":"created"}},
        {"name":"items.answer","direction":"send","method":"POST","path":"/items","pass_on":"answer"},
        {"name":"items.missing","direction":"send","method":"POST","path":"/items","pass_on":"answer","answer_at":"/data/item"}
      ]})";
}

std::vector<int64_t> one_to(int64_t n) {
    std::vector<int64_t> v;
    for (int64_t i = 1; i <= n; ++i) v.push_back(i);
    return v;
}

// Runs openssl to make a key pair; returns the private key PEM.
std::string make_key(const TempDir& dir, const std::string& algorithm) {
    const std::string priv = (dir / (algorithm + ".pem")).string(), pub = (dir / (algorithm + ".pub")).string();
    auto made = algorithm == "ES256"
                    ? run_program({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", priv})
                    : run_program({"/usr/bin/openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv});
    REQUIRE(made.exit_code == 0);
    REQUIRE(run_program({"/usr/bin/openssl", "pkey", "-in", priv, "-pubout", "-out", pub}).exit_code == 0);
    return read_text(priv);
}

jn_status status_of(const std::function<void()>& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (message) *message = e.message();
        return e.plugin_status();
    }
    return JN_OK;
}

}  // namespace

TEST_CASE("every pagination strategy reads every record once, in order") {
    Simulator sim({"--api", "lab", "--auth", "none", "--items", "35"});
    RestHost h;
    h.install_manifest("lab", lab_manifest("lab", R"({"name":"none","type":"none"})"));
    h.add("lab", "lab1", R"({"url":")" + sim.url() + R"("})");
    for (const char* strategy : {"link", "next_url", "cursor", "pages", "offset", "graphql"}) {
        CAPTURE(strategy);
        size_t pages = 0;
        CHECK(h.receive("lab1", strategy, "{}", &pages) == one_to(35));
        CHECK(pages == 4);  // 10 + 10 + 10 + 5: one emit per page
    }
    size_t pages = 0;
    CHECK(h.receive("lab1", "cursor", R"({"max_pages":2})", &pages).size() == 20);
    CHECK(pages == 2);
}

TEST_CASE("each auth method: the right credentials pass, tokens are cached and refreshed once on 401") {
    TempDir keys;
    const std::string rsa = make_key(keys, "RS256");
    struct Case {
        const char* sim_auth;
        std::string method;
        std::string config;
        std::string wrong;                  // the same with one credential wrong
        const char* client_auth = "basic";  // how the simulator wants an OAuth client to prove itself
    };
    const std::string session =
        R"({"name":"session","type":"session_token","in":"header","param":"X-Session-Token",
            "fields":[{"field":"username"},{"field":"password","secret":true}],
            "login":{"url":"{{settings.url}}/lab/login","body":{"user":"{{credentials.username}}","pass":"{{credentials.password}}"}},
            "token_fields":{"access_token":"/session/token","expires_in":"/session/ttl"}})";
    const std::vector<Case> cases = {
        {"basic", R"({"name":"basic","type":"basic"})", R"("username":"user","password":"password")",
         R"("username":"user","password":"guess")"},
        {"bearer", R"({"name":"bearer","type":"bearer"})", R"("token":"test-token")", R"("token":"stolen")"},
        {"api_key_header", R"({"name":"key","type":"api_key","in":"header","param":"X-Api-Key"})",
         R"("api_key":"test-token")", R"("api_key":"stolen")"},
        {"api_key_query", R"({"name":"key","type":"api_key","in":"query","param":"api_key"})",
         R"("api_key":"test-token")", R"("api_key":"stolen")"},
        {"client_credentials",
         R"({"name":"cc","type":"oauth2_client_credentials","token_url":"{{settings.url}}/lab/token","scope":"items"})",
         R"("client_id":"client-1","client_secret":"client-secret")", R"("client_id":"client-1","client_secret":"guess")"},
        {"jwt",
         R"({"name":"jwt","type":"oauth2_client_credentials","client_auth":"jwt_assertion","jwt_algorithm":"RS256","token_url":"{{settings.url}}/lab/token"})",
         R"("client_id":"client-1","key_id":"key-1","private_key":)" + json_text(rsa),
         R"("client_id":"someone-else","key_id":"key-1","private_key":)" + json_text(rsa)},
        {"refresh_token",
         R"({"name":"refresh","type":"oauth2_refresh_token","token_url":"{{settings.url}}/lab/token"})",
         R"("client_id":"client-1","client_secret":"client-secret","refresh_token":"refresh-1")",
         R"("client_id":"client-1","client_secret":"client-secret","refresh_token":"spent")"},
        {"client_credentials",
         R"({"name":"cc","type":"oauth2_client_credentials","client_auth":"body","token_url":"{{settings.url}}/lab/token"})",
         R"("client_id":"client-1","client_secret":"client-secret")", R"("client_id":"client-1","client_secret":"guess")",
         "body"},
        {"refresh_token",
         R"({"name":"refresh","type":"oauth2_refresh_token","client_auth":"body","token_url":"{{settings.url}}/lab/token"})",
         R"("client_id":"client-1","client_secret":"client-secret","refresh_token":"refresh-1")",
         R"("client_id":"client-1","client_secret":"guess","refresh_token":"refresh-1")", "body"},
        {"query_key_pair",
         R"({"name":"keys","type":"api_key","keys":[{"field":"consumer_key","in":"query","param":"consumer_key"},
                                                     {"field":"consumer_secret","in":"query","param":"consumer_secret"}]})",
         R"("consumer_key":"client-1","consumer_secret":"client-secret")",
         R"("consumer_key":"client-1","consumer_secret":"guess")"},
        {"session", session, R"("username":"user","password":"password")", R"("username":"user","password":"guess")"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.sim_auth);
        CAPTURE(c.client_auth);
        Simulator sim({"--api", "lab", "--auth", c.sim_auth, "--items", "25", "--public-key", (keys / "RS256.pub").string(),
                       "--client-auth", c.client_auth});
        RestHost h;
        const PackageInfo installed = h.install_manifest("lab", lab_manifest("lab", c.method));
        // Every credential field is writeOnly: sealed by the host, never shown.
        const auto& sealed = installed.manifest->secret_fields;
        for (const char* field : {"password", "token", "api_key", "client_secret", "refresh_token", "private_key",
                                  "consumer_key", "consumer_secret"})
            if (c.config.find(std::string("\"") + field + "\"") != std::string::npos)
                CHECK_MESSAGE(std::find(sealed.begin(), sealed.end(), field) != sealed.end(), field);
        h.add("lab", "good", R"({"url":")" + sim.url() + R"(",)" + c.config + "}");
        CHECK(h.receive("good", "offset") == one_to(25));
        CHECK(h.receive("good", "link") == one_to(25));
        const std::string auth = c.sim_auth;
        const char* grants = auth == "session" ? "logins"
                             : auth == "client_credentials" || auth == "jwt" || auth == "refresh_token" ? "token_grants"
                                                                                                      : nullptr;
        if (grants) {
            CHECK(sim.received()[grants].GetInt() == 1);  // one token for all those pages
            sim.control("POST", "/_sim/revoke");
            CHECK(h.receive("good", "offset") == one_to(25));  // 401 -> a new token -> on
            CHECK(sim.received()[grants].GetInt() == 2);
        }
        // Wrong credentials: a clear auth error, and no retry loop.
        h.add("lab", "bad", R"({"url":")" + sim.url() + R"(",)" + c.wrong + "}");
        const long before = sim.received()["requests"].GetInt();
        std::string message;
        CHECK(status_of([&] { h.receive("bad", "offset"); }, &message) == JN_ERR_AUTH);
        CHECK(message.find("refused") != std::string::npos);
        CHECK(sim.received()["requests"].GetInt() - before <= 2);  // token request + at most one call
    }
}

TEST_CASE("a session token is used until shortly before it expires, then the login is made again") {
    Simulator sim({"--api", "lab", "--auth", "session", "--items", "15", "--token-ttl", "64"});
    RestHost h;
    h.install_manifest("lab", lab_manifest("lab", R"({"name":"session","type":"session_token","param":"X-Session-Token",
        "fields":[{"field":"username"},{"field":"password","secret":true}],
        "login":{"url":"{{settings.url}}/lab/login","body":{"user":"{{credentials.username}}","pass":"{{credentials.password}}"}},
        "token_fields":{"access_token":"/session/token","expires_in":"/session/ttl"}})"));
    h.add("lab", "s", R"({"url":")" + sim.url() + R"(","username":"user","password":"password"})");
    CHECK(h.receive("s", "offset") == one_to(15));
    CHECK(h.receive("s", "offset") == one_to(15));
    CHECK(sim.received()["logins"].GetInt() == 1);
    // 64 s of life, renewed a minute early: 4 s (room for a slow sanitizer build under
    // load) later the next call logs in again.
    std::this_thread::sleep_for(4100ms);
    CHECK(h.receive("s", "offset") == one_to(15));
    CHECK(sim.received()["logins"].GetInt() == 2);
    // A login template naming a field the method does not declare is refused at install.
    try {
        h.install_manifest("bad", lab_manifest("bad", R"({"name":"session","type":"session_token","param":"X-Session-Token",
            "fields":[{"field":"username"}],"login":{"url":"{{settings.url}}/lab/login","body":{"pass":"{{credentials.password}}"}}})"));
        FAIL("installed");
    } catch (const Error& e) {
        CHECK_MESSAGE(std::string(e.message()).find("{{credentials.password}} names no field of this method") !=
                          std::string::npos, e.message());
    }
    try {
        h.install_manifest("bad", lab_manifest("bad", R"({"name":"cc","type":"oauth2_client_credentials",
            "token_url":"{{settings.url}}/lab/token","client_auth":"post"})"));
        FAIL("installed");
    } catch (const Error& e) {
        CHECK_MESSAGE(std::string(e.message()).find(R"(use one of "basic", "body", "jwt_assertion")") != std::string::npos,
                      e.message());
    }
}

TEST_CASE("failures: 429 storms and 500s are retried, then reported; timeouts, malformed JSON, a 2 GB body") {
    Simulator sim({"--api", "lab", "--auth", "none", "--items", "30"});
    RestHost h;
    h.install_manifest("lab", lab_manifest("lab", R"({"name":"none","type":"none"})"));
    h.add("lab", "lab1", R"({"url":")" + sim.url() + R"("})");

    sim.fault(R"({"status":429,"count":2,"retry_after":"0.2"})");
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(h.receive("lab1", "offset") == one_to(30));
    CHECK(std::chrono::steady_clock::now() - t0 >= 400ms);  // Retry-After was honoured

    sim.fault(R"({"status":503,"count":2})");
    CHECK(h.receive("lab1", "offset") == one_to(30));

    std::string message;
    sim.fault(R"({"status":500,"count":3})");
    CHECK(status_of([&] { h.receive("lab1", "offset"); }, &message) == JN_ERR_TRANSIENT);
    CHECK(message.find("after 3 attempts") != std::string::npos);

    sim.fault(R"({"status":429,"count":3})");
    CHECK(status_of([&] { h.receive("lab1", "offset"); }) == JN_ERR_RATE_LIMITED);

    sim.fault(R"({"delay_ms":2600,"count":3})");  // the manifest's timeout is 2000 ms
    CHECK(status_of([&] { h.receive("lab1", "offset"); }, &message) == JN_ERR_TIMEOUT);

    sim.fault(R"({"malformed":true})");
    CHECK(status_of([&] { h.receive("lab1", "offset"); }, &message) == JN_ERR_TRANSIENT);
    CHECK(message.find("not JSON") != std::string::npos);

    sim.fault(R"({"stream_bytes":2147483648})");
    CHECK(status_of([&] { h.receive("lab1", "offset"); }, &message) == JN_ERR_TOO_LARGE);
    INFO(message);
    CHECK(message.find("cap") != std::string::npos);

    CHECK(h.receive("lab1", "offset") == one_to(30));  // and all is well again
}

TEST_CASE("sends pass on the API's answer when the endpoint says so: merged, under a key, or instead") {
    Simulator sim({"--api", "lab", "--auth", "none"});
    RestHost h;
    h.install_manifest("lab", lab_manifest("lab", R"({"name":"none","type":"none"})"));
    h.add("lab", "lab1", R"({"url":")" + sim.url() + R"("})");
    auto passed = [&](const std::string& endpoint, const std::string& records) {
        rapidjson::Document r;
        r.Parse(h.send("lab1", endpoint, records).c_str());
        REQUIRE(r.IsArray());
        std::vector<std::string> out;
        for (const auto& result : r.GetArray()) {
            CHECK(std::string(result["status"].GetString()) == (result.HasMember("error") ? "rejected" : "ok"));
            out.push_back(result.HasMember("record") ? junction::core::write_json(result["record"]) : "-");
        }
        return out;
    };
    // The lab answers a created item with {"id": N}, N counting from 1.
    CHECK(passed("items.merge", R"([{"name":"a"},{"name":"b","id":"mine"}])") ==
          std::vector<std::string>{R"({"name":"a","id":1})", R"({"name":"b","id":2})"});
    CHECK(passed("items.under", R"([{"name":"c"}])") == std::vector<std::string>{R"({"name":"c","created":{"id":3}})"});
    CHECK(passed("items.answer", R"([{"name":"d"}])") == std::vector<std::string>{R"({"id":4})"});
    // A rejected record passes nothing on; an answer without the value asked for leaves the
    // record as it was sent (it was delivered: failing it would invite a second delivery).
    CHECK(passed("items.merge", R"([{"name":"e","reject":true}])") == std::vector<std::string>{"-"});
    CHECK(passed("items.missing", R"([{"name":"f"}])") == std::vector<std::string>{"-"});
    // A send endpoint is the only one that passes records on.
    std::string manifest = lab_manifest("bad", R"({"name":"none","type":"none"})");
    manifest.replace(manifest.find(R"("path":"/link")"), 14, R"("path":"/link","pass_on":"merge")");
    try {
        h.install_manifest("bad", manifest);
        FAIL("installed");
    } catch (const Error& e) {
        CHECK_MESSAGE(e.message().find("only a send endpoint passes records on") != std::string::npos, e.message());
    }
}

TEST_CASE("sends: a record per request from the body template; a rejected record does not stop the others") {
    Simulator sim({"--api", "lab", "--auth", "none"});
    RestHost h;
    h.install_manifest("lab", lab_manifest("lab", R"({"name":"none","type":"none"})"));
    h.add("lab", "lab1", R"({"url":")" + sim.url() + R"("})");
    const std::string result = h.send("lab1", "items.send",
                                      R"([{"name":"a","reject":false},{"name":"b","reject":true},{"name":"c","reject":false}])");
    rapidjson::Document r;
    r.Parse(result.c_str());
    REQUIRE(r.IsArray());
    CHECK(std::string(r[0]["status"].GetString()) == "ok");
    CHECK(std::string(r[1]["status"].GetString()) == "rejected");
    CHECK(r[1]["http_status"].GetInt() == 422);
    CHECK(std::string(r[2]["status"].GetString()) == "ok");
    auto got = sim.received();
    REQUIRE(got["items"].Size() == 2);
    CHECK(std::string(got["items"][0]["name"].GetString()) == "a");
    CHECK(got["items"][0]["reject"].IsFalse());  // a whole-placeholder keeps the JSON type

    // A call's first record goes alone, the others together (ABI 1.3): answered 503 twice,
    // the first is sent again after the backoff, then the rest; each arrives once, in order.
    sim.fault(R"({"status":503,"count":2})");
    const std::string retried = h.send("lab1", "items.send",
                                       R"([{"name":"d","reject":false},{"name":"e","reject":false},)"
                                       R"({"name":"f","reject":false},{"name":"g","reject":false}])");
    r.Parse(retried.c_str());
    REQUIRE(r.IsArray());
    REQUIRE(r.Size() == 4);
    for (rapidjson::SizeType i = 0; i < 4; ++i) {
        CHECK(r[i]["index"].GetUint() == i);
        CHECK(std::string(r[i]["status"].GetString()) == "ok");
    }
    const auto names = [&] {
        std::vector<std::string> out;
        const rapidjson::Document received = sim.received();  // outlives the loop over it
        for (const auto& item : received["items"].GetArray()) out.emplace_back(item["name"].GetString());
        return out;
    };
    CHECK(names() == std::vector<std::string>{"a", "c", "d", "e", "f", "g"});

    // A server that keeps failing sees one request per attempt, not one per record: the
    // call fails after the first record's attempts and the others are never sent.
    sim.fault(R"({"status":503,"count":3})");
    std::string message;
    CHECK(status_of([&] { h.send("lab1", "items.send", R"([{"name":"h","reject":false},{"name":"i","reject":false}])"); },
                    &message) == JN_ERR_TRANSIENT);
    CHECK(message.find("after 3 attempts") != std::string::npos);
    CHECK(names().size() == 6);
    h.send("lab1", "items.send", R"([{"name":"h","reject":false},{"name":"i","reject":false}])");
    CHECK(names() == std::vector<std::string>{"a", "c", "d", "e", "f", "g", "h", "i"});
}

TEST_CASE("Shopify as shipped: Link pagination with page_info, incremental by updated_at, the leaky bucket") {
    Simulator sim({"--api", "shopify", "--items", "600", "--token", "shpat_secret"});
    RestHost h;
    h.install(plugin_dir() / "shopify.connector.json");
    h.add("shopify", "uk", R"({"store_url":")" + sim.url() + R"(","api_key":"shpat_secret"})");
    size_t pages = 0;
    const auto ids = h.receive("uk", "orders.receive", "{}", &pages);
    CHECK(ids.size() == 600);
    CHECK(pages == 3);  // 250 + 250 + 100
    CHECK(ids.front() == 5000000000);
    CHECK(ids.back() == 5000000599);
    // Incremental: order i is updated at 2026-01-01T00:00:30Z + i minutes.
    CHECK(h.receive("uk", "orders.receive", R"({"since":"2026-01-01T09:00:00+00:00"})").size() == 600 - 540);
    // A 429 storm answered with Retry-After; the run still completes.
    sim.fault(R"({"status":429,"count":2,"retry_after":"0.1"})");
    CHECK(h.receive("uk", "orders.receive").size() == 600);
    CHECK(h.service.test("uk").status == "ok");

    h.add("shopify", "wrong", R"({"store_url":")" + sim.url() + R"(","api_key":"shpat_wrong"})");
    std::string message;
    CHECK(status_of([&] { h.receive("wrong", "orders.receive"); }, &message) == JN_ERR_AUTH);
    CHECK(message.find("shpat_wrong") == std::string::npos);  // never echo a credential
}

TEST_CASE("NetSuite as shipped: JWT client credentials (ES256), idempotent upserts by external id") {
    TempDir keys;
    const std::string ec = make_key(keys, "ES256");
    Simulator sim({"--api", "netsuite", "--public-key", (keys / "ES256.pub").string(), "--client-id", "ns-client"});
    RestHost h;
    h.install(plugin_dir() / "netsuite.connector.json");
    h.add("netsuite", "ns", R"({"account_url":")" + sim.url() + R"(","client_id":"ns-client","key_id":"k1","private_key":)" +
                                json_text(ec) + "}");
    const std::string orders = R"([{"externalId":"SHOP-1","memo":"a"},{"externalId":"SHOP-2","memo":"b"},{"externalId":"SHOP/3","memo":"c"}])";
    const std::string first = h.send("ns", "salesorder.upsert", orders);
    CHECK(first.find("rejected") == std::string::npos);
    h.send("ns", "salesorder.upsert", orders);  // again: upserts, not duplicates
    auto got = sim.received();
    REQUIRE(got["salesOrder"].MemberCount() == 3);
    CHECK(got["salesOrder"]["SHOP-1"]["writes"].GetInt() == 2);
    CHECK(got["salesOrder"]["SHOP/3"]["writes"].GetInt() == 2);  // the path segment was escaped
    CHECK(got["token_grants"].GetInt() == 1);
    CHECK(h.receive("ns", "salesorder.receive").size() == 3);

    h.add("netsuite", "other", R"({"account_url":")" + sim.url() + R"(","client_id":"intruder","key_id":"k1","private_key":)" +
                                   json_text(ec) + "}");
    std::string message;
    CHECK(status_of([&] { h.send("other", "salesorder.upsert", orders); }, &message) == JN_ERR_AUTH);
    CHECK(message.find("token endpoint refused") != std::string::npos);
}

TEST_CASE("bad manifests are refused at install with the JSON path and the reason") {
    RestHost h;
    auto refused = [&](const std::string& json) {
        try {
            h.install_manifest("bad", json);
        } catch (const Error& e) {
            return e.message();
        }
        return std::string("installed");
    };
    const std::string good = lab_manifest("bad", R"({"name":"none","type":"none"})");
    std::string broken = good;
    broken.replace(broken.find(R"("param":"cursor")"), 16, R"("size":5)");
    CHECK(refused(broken).find("at /endpoints/2/pagination: cursor paging needs") != std::string::npos);
    broken = good;
    broken.replace(broken.find("{{settings.url}}"), 16, "{{settings.nope}}");
    CHECK(refused(broken).find("at /base_url: {{settings.nope}} names no setting") != std::string::npos);
    broken = good;
    broken.replace(broken.find(R"("method":"GET")"), 14, R"("method":"FETCH")");
    CHECK(refused(broken).find("at /endpoints/0/method") != std::string::npos);
    CHECK(refused(R"({"name":"x"})").find("must name the engine") != std::string::npos);
    CHECK(h.registry.list().size() == 1);  // only the engine
}

TEST_CASE("junction builder test: shows the requests with credentials as *** and the first records") {
    Simulator shop({"--api", "shopify", "--items", "300", "--token", "shpat_topsecret"});
    TempDir dir;
    std::ofstream(dir / "shop.json") << R"({"store_url":")" + shop.url() + R"(","api_key":"shpat_topsecret"})";
    const std::string junction = (bin_dir() / "junction").string();
    const std::string manifest = (plugin_dir() / "shopify.connector.json").string();
    auto r = run_program({junction, "builder", "test", manifest, "--endpoint", "orders.receive", "--config",
                          (dir / "shop.json").string(), "--show", "2"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("> GET " + shop.url() + "/admin/api/2024-01/orders.json?status=any&limit=250") != std::string::npos);
    CHECK(r.output.find("X-Shopify-Access-Token: ***") != std::string::npos);
    CHECK(r.output.find("\"order_number\": 1002") != std::string::npos);
    CHECK(r.output.find("250 record(s) in 1 page(s), the first 2 shown") != std::string::npos);
    CHECK(r.output.find("shpat_topsecret") == std::string::npos);

    // NetSuite: the token request's signed assertion and the bearer token stay hidden too.
    TempDir keys;
    const std::string ec = make_key(keys, "ES256");
    Simulator ns({"--api", "netsuite", "--public-key", (keys / "ES256.pub").string(), "--client-id", "ns-client"});
    std::ofstream(dir / "ns.json") << R"({"account_url":")" + ns.url() + R"(","client_id":"ns-client","key_id":"k1","private_key":)" +
                                          json_text(ec) + "}";
    std::ofstream(dir / "orders.json") << R"([{"externalId":"SHOP-1","memo":"first"}])";
    r = run_program({junction, "builder", "test", (plugin_dir() / "netsuite.connector.json").string(), "--endpoint",
                     "salesorder.upsert", "--config", (dir / "ns.json").string(), "--records", (dir / "orders.json").string()});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("client_assertion=***") != std::string::npos);
    CHECK(r.output.find("Authorization: Bearer ***") != std::string::npos);
    CHECK(r.output.find("> PUT " + ns.url() + "/services/rest/record/v1/salesOrder/eid%3ASHOP-1") == std::string::npos);
    CHECK(r.output.find("/salesOrder/eid:SHOP-1") != std::string::npos);
    CHECK(r.output.find("\"http_status\": 204") != std::string::npos);
    CHECK(r.output.find("BEGIN PRIVATE KEY") == std::string::npos);
    CHECK(r.output.find(ec.substr(40, 30)) == std::string::npos);

    // A manifest mistake: exit 2 and the JSON path.
    std::ofstream(dir / "broken.connector.json") << R"({"engine":"rest","manifest_version":1,"name":"b","version":"1.0.0",
        "display_name":"B","base_url":"http://x","auth_methods":[{"name":"k","type":"api_key"}],
        "endpoints":[{"name":"e","direction":"receive","method":"GET","path":"/"}]})";
    r = run_program({junction, "builder", "test", (dir / "broken.connector.json").string(), "--endpoint", "e", "--config",
                     (dir / "shop.json").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("at /auth_methods/0/param") != std::string::npos);
}

TEST_CASE("a manifest connector is published, installed, updated and rolled back like a library") {
    Simulator shop({"--api", "shopify", "--items", "300"});
    TempDir pub;
    const std::string publish = (bin_dir() / "junction-publish").string();
    REQUIRE(run_program({publish, "keygen", "--private", (pub / "key.pem").string(), "--public", (pub / "key.pub").string()})
                .exit_code == 0);
    std::string v110 = read_text(plugin_dir() / "shopify.connector.json");
    v110.replace(v110.find(R"("version": "1.0.0")"), 18, R"("version": "1.1.0")");
    std::ofstream(pub / "shopify-next.connector.json") << v110;
    for (const auto& [file, notes] : std::vector<std::pair<fs::path, std::string>>{
             {plugin_dir() / "shopify.connector.json", "first"}, {pub / "shopify-next.connector.json", "next"}}) {
        auto r = run_program({publish, "add", file.string(), "--key", (pub / "key.pem").string(), "--catalogue",
                              (pub / "catalogue").string(), "--notes", notes});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
    }

    RestHost h;
    Marketplace market((pub / "catalogue").string(), pub / "key.pub", h.registry, h.updates);
    CHECK(market.install("shopify", "1.0.0", "admin").engine == "rest");
    h.add("shopify", "uk", R"({"store_url":")" + shop.url() + R"(","api_key":"test-token"})");
    CHECK(h.receive("uk", "orders.receive").size() == 300);

    market.install("shopify", "1.1.0", "admin");  // manual policy: available, not applied
    CHECK(h.runtime.acquire("uk")->plugin->version().version() == "1.0.0");
    const auto report = h.updates.apply("shopify", "1.1.0", "admin");
    INFO(report.reason);
    REQUIRE(report.switched);
    CHECK(h.runtime.acquire("uk")->plugin->version().version() == "1.1.0");
    CHECK(h.receive("uk", "orders.receive").size() == 300);
    REQUIRE(h.updates.rollback("shopify", "admin").switched);
    CHECK(h.runtime.acquire("uk")->plugin->version().version() == "1.0.0");

    std::string message;  // the engine cannot go while a manifest needs it
    try {
        h.registry.uninstall("rest");
    } catch (const Error& e) {
        message = e.message();
    }
    CHECK(message.find("rest is the engine that runs shopify") != std::string::npos);
}

TEST_CASE("Shopify's leaky bucket: the manifest's rate limit stays inside it; without it, 429s are waited out") {
    Simulator shop({"--api", "shopify", "--items", "11000"});  // 44 pages of 250
    RestHost h;
    h.install(plugin_dir() / "shopify.connector.json");
    h.add("shopify", "paced", R"({"store_url":")" + shop.url() + R"(","api_key":"test-token"})");
    CHECK(h.receive("paced", "orders.receive").size() == 11000);
    CHECK(shop.received()["throttled"].GetInt() == 0);  // 35 at once (headroom in the 40), then 2 a second

    // A bucket of one that leaks one request in 2 s (Shopify's Retry-After): an unpaced client
    // overflows it on its second page however slow the machine, and must wait each 429 out.
    Simulator other({"--api", "shopify", "--items", "750", "--bucket", "1", "--leak", "0.5"});  // 3 pages
    h.add("shopify", "greedy", R"({"store_url":")" + other.url() + R"(","api_key":"test-token","rate_limit_per_second":0})");
    CHECK(h.receive("greedy", "orders.receive").size() == 750);
    CHECK(other.received()["throttled"].GetInt() > 0);  // the bucket overflowed; Retry-After was honoured
}

TEST_CASE("tokens are fetched again before they expire; filters reach the API; unknown filters are refused") {
    Simulator sim({"--api", "lab", "--auth", "client_credentials", "--items", "20", "--token-ttl", "64"});
    RestHost h;
    std::string manifest = lab_manifest(
        "lab", R"({"name":"cc","type":"oauth2_client_credentials","token_url":"{{settings.url}}/lab/token"})");
    manifest.replace(manifest.find(R"("path":"/link",)"), 15, R"("path":"/link","filters":["status"],)");
    h.install_manifest("lab", manifest);
    h.add("lab", "lab1", R"({"url":")" + sim.url() + R"(","client_id":"client-1","client_secret":"client-secret"})");
    CHECK(h.receive("lab1", "link", R"({"filters":{"status":"paid"}})") == one_to(20));
    CHECK(sim.received()["token_grants"].GetInt() == 1);
    std::this_thread::sleep_for(4100ms);  // 64 s tokens are renewed a minute early: now
    CHECK(h.receive("lab1", "link") == one_to(20));
    CHECK(sim.received()["token_grants"].GetInt() == 2);
    CHECK(sim.control("GET", "/_sim/requests").body.find("/lab/link?status=paid") != std::string::npos);

    std::string message;
    CHECK(status_of([&] { h.receive("lab1", "link", R"({"filters":{"colour":"red"}})"); }, &message) ==
          JN_ERR_INVALID_REQUEST);
    CHECK(message.find("offers no filter 'colour'") != std::string::npos);
}

namespace {

// WordPress-style endpoints over /lab/wp (a bare array, per_page capped at 50, the totals
// in headers, 400 past the end), each with other stop rules.
std::string wp_manifest() {
    const std::string end_on = R"("end_on":[{"status":400,"pointer":"/code","equals":"rest_post_invalid_page_number"}])";
    const std::string totals = R"("total_pages":{"header":"X-WP-TotalPages"},"total_records":{"header":"X-WP-Total"})";
    auto endpoint = [](const std::string& name, const std::string& pagination, const std::string& query = "{}") {
        return R"({"name":")" + name + R"(","direction":"receive","method":"GET","path":"/wp","query":)" + query +
               R"(,"pagination":{"type":"page_number","param":"page","size_param":"per_page",)" + pagination + "}}";
    };
    return R"({"engine":"rest","manifest_version":1,"name":"wp","version":"1.0.0","display_name":"WP",
      "description":"page numbers and totals","base_url":"{{settings.url}}/lab","settings":{"url":{"type":"string"}},
      "required_settings":["url"],"retry":{"max_attempts":2,"initial_backoff_ms":10,"max_backoff_ms":20},
      "auth_methods":[{"name":"none","type":"none"}],
      "endpoints":[)" +
           endpoint("totals", R"("size":100,)" + totals + "," + end_on) + "," +
           endpoint("records_total", R"("size":100,"total_records":{"header":"X-WP-Total"})") + "," +
           endpoint("short_page", R"("size":100)") + "," +
           endpoint("limited", R"("size":50,"total_records":{"header":"X-WP-Total"},)" + end_on, R"({"max_pages":"2"})") + "," +
           endpoint("exact", R"("size":50)") + "," +
           endpoint("exact_ended", R"("size":50,)" + end_on) + "," +
           R"({"name":"filtered","direction":"receive","method":"GET","path":"/wp","record_filter":{"pointer":"/id","not_equals":1},
              "pagination":{"type":"page_number","param":"page","size_param":"per_page","size":50,)" + totals + "," + end_on + "}}," +
           R"({"name":"none_kept","direction":"receive","method":"GET","path":"/wp","record_filter":{"pointer":"/nope","exists":true},
              "pagination":{"type":"page_number","param":"page","size_param":"per_page","size":50,)" + totals + "," + end_on + "}}," +
           R"({"name":"wrong_param","direction":"receive","method":"GET","path":"/wp",
              "pagination":{"type":"page_number","param":"pg","size_param":"per_page","size":50}},)" +
           R"({"name":"more","direction":"receive","method":"GET","path":"/has_more","records":"/data",
              "pagination":{"type":"page_number","param":"page","size":10,"has_more":{"pointer":"/has_more"}}},
             {"name":"more_short","direction":"receive","method":"GET","path":"/has_more","records":"/data",
              "pagination":{"type":"page_number","param":"page","size":10}}]})";
}

}  // namespace

TEST_CASE("paging stops where the answers say: totals, has_more, a 400 past the end; a short read fails") {
    Simulator sim({"--api", "lab", "--auth", "none", "--items", "137"});
    RestHost h;
    h.install_manifest("wp", wp_manifest());
    h.add("wp", "wp1", R"({"url":")" + sim.url() + R"("})");
    size_t pages = 0;
    // The server caps per_page at 50: its totals carry the read through 3 pages.
    CHECK(h.receive("wp1", "totals", "{}", &pages) == one_to(137));
    CHECK(pages == 3);
    CHECK(h.receive("wp1", "records_total") == one_to(137));
    // With no stop rule declared, a short page is the last: the cap goes unseen (the fallback).
    CHECK(h.receive("wp1", "short_page").size() == 50);
    // A server that stops serving before its total fails the read, naming both counts.
    std::string why;
    CHECK(status_of([&] { h.receive("wp1", "limited"); }, &why) == JN_ERR_INVALID_CONFIG);
    CHECK_MESSAGE(why.find("GET /wp read 100 records where its answers said there are 137 (X-WP-Total)") !=
                      std::string::npos, why);
    CHECK_MESSAGE(why.find("set the endpoint's pagination 'size' to its cap") != std::string::npos, why);
    // has_more decides over the page's length (7 records where 10 were asked for).
    Simulator seven({"--api", "lab", "--auth", "none", "--items", "35"});
    h.add("wp", "wp2", R"({"url":")" + seven.url() + R"("})");
    CHECK(h.receive("wp2", "more", "{}", &pages) == one_to(35));
    CHECK(pages == 5);
    CHECK(h.receive("wp2", "more_short").size() == 7);
    // A record_filter does not make a page short, nor the read come up short of the total.
    std::vector<int64_t> but_first = one_to(137);
    but_first.erase(but_first.begin());
    CHECK(h.receive("wp1", "filtered", "{}", &pages) == but_first);
    // Pages whose records are all filtered out are not "the same page again".
    CHECK(h.receive("wp1", "none_kept").empty());
    // A server that ignores the page parameter answers page 1 for ever: stopped, not looped.
    CHECK(status_of([&] { h.receive("wp1", "wrong_param"); }, &why) == JN_ERR_INVALID_CONFIG);
    CHECK_MESSAGE(why.find("the next page repeated the one before it") != std::string::npos, why);
}

TEST_CASE("a page past the end that answers 400 ends the read when the manifest declares it, and fails it otherwise") {
    Simulator sim({"--api", "lab", "--auth", "none", "--items", "100"});  // two full pages of 50
    RestHost h;
    h.install_manifest("wp", wp_manifest());
    h.add("wp", "wp1", R"({"url":")" + sim.url() + R"("})");
    size_t pages = 0;
    CHECK(h.receive("wp1", "exact_ended", "{}", &pages) == one_to(100));
    CHECK(pages == 2);
    std::string why;
    CHECK(status_of([&] { h.receive("wp1", "exact"); }, &why) == JN_ERR_INVALID_REQUEST);
    CHECK_MESSAGE(why.find("answered HTTP 400") != std::string::npos, why);
    CHECK_MESSAGE(why.find("rest_post_invalid_page_number") != std::string::npos, why);
}

TEST_CASE("stop rules that cannot work are refused at install") {
    RestHost h;
    auto refused = [&](const std::string& pagination) {
        try {
            h.install_manifest("bad", R"({"engine":"rest","manifest_version":1,"name":"bad","version":"1.0.0",
              "display_name":"Bad","description":"x","base_url":"http://127.0.0.1:1",
              "auth_methods":[{"name":"none","type":"none"}],
              "endpoints":[{"name":"r","direction":"receive","method":"GET","path":"/r","pagination":)" +
                               pagination + "}]}");
        } catch (const Error& e) {
            return e.message();
        }
        return std::string("installed");
    };
    CHECK(refused(R"({"type":"cursor","path":"/c","param":"c","total_pages":{"header":"X-Pages"}})")
              .find("only page_number paging counts pages") != std::string::npos);
    CHECK(refused(R"({"type":"page_number","param":"p","end_on":[{"status":400,"equals":"x"}]})")
              .find("give both") != std::string::npos);
    CHECK(refused(R"({"type":"page_number","param":"p","total_records":{"header":"a","pointer":"/b"}})")
              .find("maxProperties") != std::string::npos);
}

namespace {

// GraphQL endpoints over /lab/graphql: Relay edges, and the errors a server answers with 200.
std::string graphql_manifest() {
    auto endpoint = [](const std::string& name, const std::string& query, const std::string& extra = {}) {
        return R"({"name":")" + name + R"(","direction":"receive","method":"POST","path":"/graphql",)" + extra +
               R"("records":"/data/items/edges/*/node","body":{"query":")" + query + R"(","variables":{"first":10}},
                 "pagination":{"type":"graphql","path":"/data/items/pageInfo","param":"after"}})";
    };
    const std::string edges = "query($first:Int,$after:String){items(first:$first,after:$after){edges{cursor node{id name}} pageInfo{hasNextPage endCursor}}}";
    return R"({"engine":"rest","manifest_version":1,"name":"gql","version":"1.0.0","display_name":"GraphQL",
      "description":"edges and errors","base_url":"{{settings.url}}/lab","settings":{"url":{"type":"string"}},
      "required_settings":["url"],"retry":{"max_attempts":3,"initial_backoff_ms":10,"max_backoff_ms":20},
      "auth_methods":[{"name":"none","type":"none"}],
      "endpoints":[)" +
           endpoint("edges", edges) + "," +
           endpoint("not_three", edges, R"("record_filter":{"pointer":"/id","not_equals":3},)") + "," +
           endpoint("throttled", edges + " # throttle") + "," +
           endpoint("broken", edges + " # broken") + "," +
           endpoint("partial", edges + " # partial") + "," +
           endpoint("own_rule", edges + " # broken",
                    R"("response_rules":[{"when":[{"pointer":"/errors/0/extensions/code","equals":"undefinedField"}],
                        "action":"fail","error":"invalid_config","message":"/errors/0/message"}],)") +
           "]}";
}

}  // namespace

TEST_CASE("GraphQL: records under edges/*/node, a per-record filter, and errors answered with 200") {
    Simulator sim({"--api", "lab", "--auth", "none", "--items", "25"});
    RestHost h;
    h.install_manifest("gql", graphql_manifest());
    h.add("gql", "g", R"({"url":")" + sim.url() + R"("})");
    size_t pages = 0;
    CHECK(h.receive("g", "edges", "{}", &pages) == one_to(25));
    CHECK(pages == 3);
    std::vector<int64_t> without_three = one_to(25);
    without_three.erase(without_three.begin() + 2);
    CHECK(h.receive("g", "not_three") == without_three);
    // THROTTLED twice (with 200), then the data: retried, every record once.
    const long before = sim.received()["requests"].GetInt();
    CHECK(h.receive("g", "throttled") == one_to(25));
    CHECK(sim.received()["requests"].GetInt() - before == 5);  // 2 throttled + 3 pages
    // A bad query: the server's message, not "no array of records".
    std::string why;
    CHECK(status_of([&] { h.receive("g", "broken"); }, &why) == JN_ERR_INVALID_REQUEST);
    CHECK_MESSAGE(why.find("POST /graphql answered with an error: Field 'nope' doesn't exist on type 'Item'") !=
                      std::string::npos, why);
    // The manifest's own rule comes before the defaults.
    CHECK(status_of([&] { h.receive("g", "own_rule"); }, &why) == JN_ERR_INVALID_CONFIG);
    // Data with errors beside it: the data is read, and the errors reach the caller (a run
    // log) as a warning about the call (ABI 1.4 call_log), in a connector process or not.
    for (const auto isolation : {Isolation::process, Isolation::in_process}) {
        RestHost host(isolation);
        host.install_manifest("gql", graphql_manifest());
        host.add("gql", "g", R"({"url":")" + sim.url() + R"("})");
        CHECK(host.receive("g", "partial") == one_to(25));
        REQUIRE(!host.call_lines.empty());
        CHECK_MESSAGE(host.call_lines[0].rfind("30: POST /graphql answered with errors beside its data: ", 0) == 0,
                      host.call_lines[0]);
    }
}

TEST_CASE("response rules on a REST endpoint: an error answered with 200, a 404 taken as no records") {
    Simulator sim({"--api", "lab", "--auth", "none", "--items", "12"});
    RestHost h;
    h.install_manifest("rules", lab_manifest("rules", R"({"name":"none","type":"none"})"));
    // A copy of the lab manifest whose 'pages' endpoint reads a path that does not exist.
    std::string manifest = lab_manifest("rules2", R"({"name":"none","type":"none"})");
    manifest.replace(manifest.find(R"("path":"/pages")"), 15,
                     R"("path":"/nothing","response_rules":[{"when":[{"status":404}],"action":"ignore"}])");
    h.install_manifest("rules2", manifest);
    h.add("rules2", "r", R"({"url":")" + sim.url() + R"("})");
    size_t pages = 0;
    CHECK(h.receive("r", "pages", "{}", &pages).empty());
    CHECK(pages == 0);
    CHECK(h.receive("r", "offset") == one_to(12));
}

TEST_CASE("templates place the page's cursor and the incremental since in the query or GraphQL variables") {
    Simulator sim({"--api", "lab", "--auth", "none", "--items", "25"});
    RestHost h;
    h.install_manifest("tpl", R"({"engine":"rest","manifest_version":1,"name":"tpl","version":"1.0.0",
      "display_name":"Templates","base_url":"{{settings.url}}/lab","settings":{"url":{"type":"string"}},
      "required_settings":["url"],"auth_methods":[{"name":"none","type":"none"}],
      "endpoints":[
        {"name":"cursor","direction":"receive","method":"GET","path":"/cursor","records":"/data",
         "query":{"cursor":"{{page.cursor}}"},"pagination":{"type":"cursor","path":"/meta/next_cursor"}},
        {"name":"numbered","direction":"receive","method":"GET","path":"/pages","records":"/results","filters":["status"],
         "query":{"page":"{{page.number}}","per_page":"{{page.size}}"},"pagination":{"type":"page_number","size":10}},
        {"name":"graphql","direction":"receive","method":"POST","path":"/graphql","records":"/data/items/nodes",
         "incremental":{"field":"id"},
         "body":{"query":"query($first:Int,$after:String,$since:String){items(first:$first,after:$after,since:$since){nodes{id name} pageInfo{hasNextPage endCursor}}}",
                 "variables":{"first":10,"after":"{{page.cursor}}","since":"{{request.since}}"}},
         "pagination":{"type":"graphql","path":"/data/items/pageInfo"}}]})");
    h.add("tpl", "t", R"({"url":")" + sim.url() + R"("})");
    size_t pages = 0;
    // The page number by template, with the caller's filter on every page.
    CHECK(h.receive("t", "numbered", R"({"filters":{"status":"paid"}})", &pages) == one_to(25));
    CHECK(pages == 3);
    const std::string requests = sim.control("GET", "/_sim/requests").body;
    CHECK_MESSAGE(requests.find("/lab/pages?page=3&per_page=10&status=paid") != std::string::npos, requests);
    CHECK(h.receive("t", "cursor", "{}", &pages) == one_to(25));
    CHECK(pages == 3);
    CHECK(h.receive("t", "graphql") == one_to(25));
    CHECK(h.receive("t", "graphql", R"({"since":"20"})") == std::vector<int64_t>{21, 22, 23, 24, 25});
    // Where a template places the value, the manifest does not also name a parameter for it.
    try {
        h.install_manifest("bad", R"({"engine":"rest","manifest_version":1,"name":"bad","version":"1.0.0",
          "display_name":"Bad","base_url":"http://127.0.0.1:1","auth_methods":[{"name":"none","type":"none"}],
          "endpoints":[{"name":"c","direction":"receive","method":"GET","path":"/c","query":{"c":"{{page.cursor}}"},
                        "pagination":{"type":"cursor","path":"/next","param":"c"}}]})");
        FAIL("installed");
    } catch (const Error& e) {
        CHECK_MESSAGE(e.message().find("leave 'param' out") != std::string::npos, e.message());
    }
    try {
        h.install_manifest("bad", R"({"engine":"rest","manifest_version":1,"name":"bad","version":"1.0.0",
          "display_name":"Bad","base_url":"http://127.0.0.1:1","auth_methods":[{"name":"none","type":"none"}],
          "endpoints":[{"name":"c","direction":"send","method":"POST","path":"/c","query":{"c":"{{page.cursor}}"}}]})");
        FAIL("installed");
    } catch (const Error& e) {
        CHECK_MESSAGE(e.message().find("{{page.cursor}} is not a known value") != std::string::npos, e.message());
    }
    try {  // a next URL carries the whole next request: a template cannot place anything in it
        h.install_manifest("bad", R"({"engine":"rest","manifest_version":1,"name":"bad","version":"1.0.0",
          "display_name":"Bad","base_url":"http://127.0.0.1:1","auth_methods":[{"name":"none","type":"none"}],
          "endpoints":[{"name":"c","direction":"receive","method":"GET","path":"/c","query":{"n":"{{page.size}}"},
                        "pagination":{"type":"next_url","path":"/next"}}]})");
        FAIL("installed");
    } catch (const Error& e) {
        CHECK_MESSAGE(e.message().find("{{page...}} templates need cursor, graphql, page_number or offset paging") !=
                          std::string::npos, e.message());
    }
}
