// Nothing lost (issue 15), through the real daemon over loopback: every write of an
// instance's settings and secrets is a compare-and-set on its revision. Two PATCHes that
// read the same revision: one wins, the other gets 409 and loses nothing; PATCHes without
// a revision are all applied, none on top of a stale read. A credential changed while a
// hot swap's canary runs survives the swap. A master key rotation re-seals the snapshots a
// rollback restores: rotate, roll back, the instance still opens its credential, and a
// second rotation succeeds. A swap holding its canary does not hold up another
// connector's version change. Credentials are checked where they live: opened from the
// store with the state directory's key, after the daemon stopped.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"

#include <junction/core/common/json.hpp>
#include <junction/core/secrets/master_key.hpp>
#include <junction/core/secrets/secret_box.hpp>
#include <junction/core/store/store.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace junction::testing;
namespace core = junction::core;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// junctiond with the conformance connector (1.0.0) and, after `add_version`, a later build.
struct Daemon {
    JunctiondProcess process{std::vector<std::string>{}};

    Daemon() { add_package("conformance", "conformance.so"); }
    fs::path plugin_folder() const { return process.state_dir().parent_path() / "plugins"; }
    // Copies a package into the plugin folder and restarts, which installs it.
    void add_package_file(const fs::path& package, const std::string& file) {
        REQUIRE(process.stop() == 0);
        fs::copy_file(package, plugin_folder() / file);
        process.start();
    }
    void add_package(const std::string& fixture_name, const std::string& file) {
        add_package_file(fixture(fixture_name), file);
    }
    HttpAnswer call(const std::string& method, const std::string& path, const std::string& body = {}) const {
        return process.call(method, path, body);
    }
    void add_instance(const std::string& name, const std::string& label, const std::string& token) {
        const auto r = call("POST", "/v1/instances",
                            R"({"connector":"conformance","name":")" + name + R"(","config":{"label":)" +
                                json_text(label) + R"(,"api_token":)" + json_text(token) + "}}");
        REQUIRE_MESSAGE(r.status == 201, r.body);
    }
    int64_t revision(const std::string& name) const {
        const auto r = call("GET", "/v1/instances/" + name);
        REQUIRE(r.status == 200);
        return core::parse_json_text(r.body, "instance")["revision"].GetInt64();
    }
};

// The instance as stored, credentials opened with the state directory's master key (the
// daemon must be stopped: the key source and the store are its).
struct Stored {
    std::string settings_json;
    std::map<std::string, std::string> secrets;
    std::map<std::string, std::string> snapshot_secrets;  // of `snapshot_version`
    int64_t revision = 0;
};
Stored stored(const fs::path& state, const std::string& name, const std::string& snapshot_version = {}) {
    auto store = core::open_sqlite_store(state / "junction.db");
    const core::SecretBox box = core::open_secret_box(*store, core::key_source_for(state));
    const auto r = store->find_instance(name);
    REQUIRE(r);
    Stored out{r->settings_json, {}, {}, r->revision};
    for (const auto& s : r->secrets) out.secrets[s.field] = box.open(r->id, s);
    if (!snapshot_version.empty()) {
        const auto snap = store->snapshot(r->id, snapshot_version);
        REQUIRE(snap);
        for (const auto& s : snap->secrets) out.snapshot_secrets[s.field] = box.open(r->id, s);
    }
    return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("two PATCHes of one revision: one wins, the other gets 409 saying what to do, nothing lost") {
    Daemon d;
    d.add_instance("uk", "uk", "tok-uk-1");
    const int64_t read = d.revision("uk");

    // Both read `read`; they start together.
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto patch = [&](const std::string& config) {
        return std::async(std::launch::async, [&d, start, config, read] {
            start.wait();
            return d.call("PATCH", "/v1/instances/uk",
                          R"({"revision":)" + std::to_string(read) + R"(,"config":)" + config + "}");
        });
    };
    auto label = patch(R"({"label":"uk-renamed"})");
    auto token = patch(R"({"api_token":"tok-uk-2"})");
    go.set_value();
    const HttpAnswer a = label.get(), b = token.get();
    INFO(a.body);
    INFO(b.body);
    CHECK(((a.status == 200 && b.status == 409) || (a.status == 409 && b.status == 200)));
    const HttpAnswer& lost = a.status == 409 ? a : b;
    CHECK(contains(lost.body, R"("code":"conflict")"));
    CHECK(contains(lost.body, "read it again"));
    CHECK(contains(lost.body, "revision " + std::to_string(read)));
    for (const auto& secret : {"tok-uk-1", "tok-uk-2"}) CHECK_FALSE(contains(lost.body, secret));

    // The loser re-reads and sends its change again with the revision it now read.
    const std::string retry = a.status == 409 ? R"({"label":"uk-renamed"})" : R"({"api_token":"tok-uk-2"})";
    const int64_t now = d.revision("uk");
    CHECK(now == read + 1);
    const auto again = d.call("PATCH", "/v1/instances/uk", R"({"revision":)" + std::to_string(now) + R"(,"config":)" + retry + "}");
    CHECK_MESSAGE(again.status == 200, again.body);
    CHECK(core::parse_json_text(again.body, "instance")["revision"].GetInt64() == read + 2);

    // A stale revision is refused before anything is written.
    const auto stale = d.call("PATCH", "/v1/instances/uk", R"({"revision":)" + std::to_string(read) + R"(,"config":{"label":"x"}})");
    CHECK(stale.status == 409);
    CHECK(contains(stale.body, "2 write(s) since"));

    // Without a revision, concurrent PATCHes are all applied, each on the latest record.
    std::vector<std::future<HttpAnswer>> many;
    for (int i = 0; i < 6; ++i)
        many.push_back(std::async(std::launch::async, [&d, i] {
            return d.call("PATCH", "/v1/instances/uk", R"({"config":{"label":"uk-)" + std::to_string(i) + R"("}})");
        }));
    for (auto& f : many) {
        const HttpAnswer r = f.get();
        CHECK_MESSAGE(r.status == 200, r.body);
    }
    CHECK(d.revision("uk") == read + 8);
    CHECK(d.call("POST", "/v1/instances/uk/test").status == 200);

    REQUIRE(d.process.stop() == 0);
    const Stored s = stored(d.process.state_dir(), "uk");
    CHECK(s.secrets.at("api_token") == "tok-uk-2");  // the token PATCH was not undone
    CHECK(s.revision == read + 8);
    d.process.start();
}

TEST_CASE("a credential changed during a swap's canary survives the swap") {
    Daemon d;
    d.add_instance("uk", "hold-canary", "tok-uk-1");
    d.add_package("conformance_v2", "conformance-2.0.0.so");  // 2.0.0 renames label: a migration

    auto apply = std::async(std::launch::async, [&d] { return d.call("POST", "/v1/connectors/conformance/apply", "{}"); });
    REQUIRE(wait_for_text(d.process.log_file(), "holding the connection test of hold-canary", 60s));
    const auto patched = d.call("PATCH", "/v1/instances/uk", R"({"config":{"api_token":"tok-uk-2"}})");
    CHECK_MESSAGE(patched.status == 200, patched.body);
    const HttpAnswer swapped = apply.get();
    INFO(swapped.body);
    CHECK(swapped.status == 200);
    CHECK(contains(swapped.body, R"("switched":true)"));
    CHECK(wait_for_text(d.process.log_file(), "planning again from the newer record", 5s));
    CHECK(contains(d.call("GET", "/v1/instances/uk").body, R"("version":"2.0.0")"));

    REQUIRE(d.process.stop() == 0);
    const Stored s = stored(d.process.state_dir(), "uk", "1.0.0");
    CHECK(s.secrets.at("api_token") == "tok-uk-2");           // not reverted by the swap
    CHECK(s.snapshot_secrets.at("api_token") == "tok-uk-2");  // and a rollback brings back the new one
    CHECK(contains(s.settings_json, R"("display_label":"hold-canary")"));
    d.process.start();
}

TEST_CASE("a swap holding its canary does not hold up another connector's version change") {
    Daemon d;
    d.add_instance("uk", "hold-canary", "tok-uk-1");
    d.add_package_file(plugin_dir() / "jsonl.so", "jsonl.so");
    d.add_package("conformance_v2", "conformance-2.0.0.so");

    auto apply = std::async(std::launch::async, [&d] { return d.call("POST", "/v1/connectors/conformance/apply", "{}"); });
    REQUIRE(wait_for_text(d.process.log_file(), "holding the connection test of hold-canary", 60s));
    const auto policy = d.call("PUT", "/v1/connectors/jsonl/policy", R"({"policy":"auto"})");
    CHECK_MESSAGE(policy.status == 200, policy.body);
    // Answered while conformance's canary still holds (it holds 3 s): no daemon-wide gate.
    CHECK(apply.wait_for(0s) == std::future_status::timeout);
    CHECK(contains(apply.get().body, R"("switched":true)"));
}

TEST_CASE("rotate, roll back, use: the snapshot a rollback restores was re-sealed; a second rotation works") {
    Daemon d;
    d.add_instance("uk", "uk", "tok-uk-1");
    d.add_package("conformance_v2", "conformance-2.0.0.so");
    const auto applied = d.call("POST", "/v1/connectors/conformance/apply", "{}");
    REQUIRE_MESSAGE(contains(applied.body, R"("switched":true)"), applied.body);
    REQUIRE(d.process.stop() == 0);

    auto rotate = [&] {
        return run_program({(bin_dir() / "junctiond").string(), "--state-dir", d.process.state_dir().string(),
                            "--rotate-key"});
    };
    const RunResult first = rotate();
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    CHECK(contains(first.output, "master key rotated"));

    d.process.start();
    const auto back = d.call("POST", "/v1/connectors/conformance/rollback");
    INFO(back.body);
    CHECK(contains(back.body, R"("switched":true)"));
    const auto tested = d.call("POST", "/v1/instances/uk/test");
    CHECK_MESSAGE(tested.status == 200, tested.body);
    CHECK(contains(tested.body, R"("status":"ok")"));
    REQUIRE(d.process.stop() == 0);
    CHECK(stored(d.process.state_dir(), "uk").secrets.at("api_token") == "tok-uk-1");

    const RunResult second = rotate();
    INFO(second.output);
    CHECK(second.exit_code == 0);
    d.process.start();
    CHECK(contains(d.call("POST", "/v1/instances/uk/test").body, R"("status":"ok")"));
}
