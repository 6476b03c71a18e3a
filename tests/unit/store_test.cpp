// The SQLite store through its interface: what callers rely on, whatever the engine.
#include <doctest/doctest.h>

#include "test_paths.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/store/store.hpp>

#include <sqlite3.h>

#include <algorithm>

using namespace junction::core;
using namespace junction::testing;

namespace {
InstanceRecord record(const std::string& id, const std::string& name, const std::string& connector = "shopify") {
    InstanceRecord r;
    r.id = id;
    r.name = name;
    r.connector = connector;
    r.auth_method = "token";
    r.settings_json = R"({"shop":")" + name + R"("})";
    r.secrets = {{"token", std::string(12, 'n'), "sealed-" + name}};
    r.created_ms = r.updated_ms = 1000;
    return r;
}
}  // namespace

TEST_CASE("instances: insert, find by id or name, update, unique names, delete cascades") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    CHECK(store->schema_version() == 8);
    store->insert_instance(record("i1", "shopify-uk"));
    store->state_set("i1", "cursor", "2026-01-01");

    auto by_name = store->find_instance("shopify-uk");
    REQUIRE(by_name);
    CHECK(by_name->id == "i1");
    REQUIRE(by_name->secrets.size() == 1);
    CHECK(by_name->secrets[0].ciphertext == "sealed-shopify-uk");
    CHECK(store->find_instance("i1")->name == "shopify-uk");
    CHECK_FALSE(store->find_instance("nope"));

    CHECK_THROWS_WITH_AS(store->insert_instance(record("i2", "shopify-uk")),
                         doctest::Contains("already exists"), Error);

    auto changed = *by_name;
    CHECK(changed.revision == 1);
    changed.settings_json = R"({"shop":"uk2"})";
    changed.secrets = {};
    CHECK(store->update_instance(changed) == 2);
    CHECK(store->find_instance("i1")->secrets.empty());
    CHECK(store->find_instance("i1")->settings_json == R"({"shop":"uk2"})");
    CHECK(store->find_instance("i1")->revision == 2);
    CHECK_THROWS_AS(store->update_instance(record("missing", "x")), Error);

    CHECK(store->delete_instance("i1"));
    CHECK_FALSE(store->delete_instance("i1"));
    CHECK_FALSE(store->state_get("i1", "cursor"));  // state went with the instance
    CHECK(store->count_sealed_values() == 0);
}

TEST_CASE("listing pages by name and filters by connector") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    for (int i = 0; i < 25; ++i) {
        const std::string n = (i < 10 ? "a0" : "a") + std::to_string(i);
        store->insert_instance(record("id" + std::to_string(i), n, i % 5 == 0 ? "netsuite" : "shopify"));
    }
    CHECK(store->count_instances() == 25);
    CHECK(store->count_instances("netsuite") == 5);
    InstanceQuery q;
    q.limit = 10;
    std::vector<std::string> names;
    for (;;) {
        auto page = store->list_instances(q);
        for (const auto& r : page) names.push_back(r.name);
        if (page.size() < q.limit) break;
        q.after_name = page.back().name;
    }
    REQUIRE(names.size() == 25);
    CHECK(std::is_sorted(names.begin(), names.end()));
    q = {};
    q.connector = "netsuite";
    CHECK(store->list_instances(q).size() == 5);
}

TEST_CASE("an instance write is a compare-and-set on the revision read") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    store->insert_instance(record("i1", "one"));
    InstanceRecord first = *store->find_instance("i1");
    InstanceRecord second = first;  // two writers read revision 1
    first.secrets = {{"token", "n2", "sealed-newer"}};
    CHECK(store->update_instance(first) == 2);
    second.settings_json = R"({"shop":"older"})";
    CHECK_THROWS_WITH_AS(store->update_instance(second), doctest::Contains("changed since it was read"), Error);
    const auto now = store->find_instance("i1");
    CHECK(now->secrets[0].ciphertext == "sealed-newer");  // the later write lost nothing
    CHECK(now->settings_json == R"({"shop":"one"})");

    // A version switch built from the older read writes nothing, not even its history line.
    CHECK_THROWS_AS(store->commit_version_switch({"shopify", "2.0.0", "1.0.0", "manual", ""}, {second},
                                                 {{"i1", "1.0.0", second.settings_json, second.secrets}},
                                                 {0, "shopify", "apply", "1.0.0", "2.0.0", "t", 1, "done", ""}),
                    Error);
    CHECK(store->find_instance("i1")->secrets[0].ciphertext == "sealed-newer");
    CHECK_FALSE(store->connector_state("shopify"));
    CHECK_FALSE(store->snapshot("i1", "1.0.0"));
    InstanceRecord fresh = *store->find_instance("i1");
    fresh.settings_json = R"({"shop":"two"})";
    store->commit_version_switch({"shopify", "2.0.0", "1.0.0", "manual", ""}, {fresh},
                                 {{"i1", "1.0.0", R"({"shop":"one"})", now->secrets}},
                                 {0, "shopify", "apply", "1.0.0", "2.0.0", "t", 1, "done", ""});
    CHECK(store->find_instance("i1")->revision == 3);
}

TEST_CASE("every sealed value, snapshots' too, is re-sealed with meta in one transaction") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    store->insert_instance(record("i1", "one"));
    store->insert_instance(record("i2", "two"));
    const InstanceRecord one = *store->find_instance("i1");
    store->commit_version_switch({"shopify", "2.0.0", "1.0.0", "manual", ""}, {},
                                 {{"i1", "1.0.0", one.settings_json, {{"token", "n", "snap-one"}}}},
                                 {0, "shopify", "apply", "1.0.0", "2.0.0", "t", 1, "done", ""});
    CHECK(store->count_sealed_values() == 3);
    const auto resealed = store->reseal_all_secrets(
        [](const std::string& id, const SealedSecret& s) {
            return SealedSecret{s.field, "n2", "resealed-" + id + "-" + s.ciphertext};
        },
        {{"master_key_check", "new-check"}});
    CHECK(resealed == 3);
    CHECK(store->find_instance("i2")->secrets[0].ciphertext == "resealed-i2-sealed-two");
    CHECK(store->snapshot("i1", "1.0.0")->secrets[0].ciphertext == "resealed-i1-snap-one");
    CHECK(store->find_instance("i1")->revision == 2);  // a reader of the old value must re-read
    CHECK(store->meta_get("master_key_check") == "new-check");

    // A value that cannot be re-sealed changes nothing.
    CHECK_THROWS(store->reseal_all_secrets(
        [](const std::string& id, const SealedSecret& s) -> SealedSecret {
            if (id == "i2") throw Error(Errc::invalid_argument, "does not open");
            return {s.field, "n3", "half-done"};
        },
        {{"master_key_check", "other"}}));
    CHECK(store->find_instance("i1")->secrets[0].ciphertext == "resealed-i1-sealed-one");
    CHECK(store->meta_get("master_key_check") == "new-check");

    // A snapshot an earlier rotation left under a lost key opens no more: it is removed and
    // the rotation goes on (a rollback to it could only have failed).
    const auto after_loss = store->reseal_all_secrets(
        [](const std::string&, const SealedSecret& s) -> SealedSecret {
            if (s.ciphertext.find("snap") != std::string::npos) throw Error(Errc::invalid_argument, "does not open");
            return {s.field, "n4", "again-" + s.ciphertext};
        },
        {{"master_key_check", "third"}});
    CHECK(after_loss == 2);
    CHECK_FALSE(store->snapshot("i1", "1.0.0"));
    CHECK(store->find_instance("i1")->secrets[0].ciphertext == "again-resealed-i1-sealed-one");
    CHECK(store->meta_get("master_key_check") == "third");
}

TEST_CASE("reopening keeps everything; a newer schema is refused, not damaged") {
    TempDir dir;
    {
        auto store = open_sqlite_store(dir / "j.db");
        store->insert_instance(record("i1", "kept"));
        store->meta_set("k", "v");
        store->put_connector_state({"shopify", "2.0.0", "1.0.0", "auto", "in-process"});
    }
    {
        auto store = open_sqlite_store(dir / "j.db");
        CHECK(store->find_instance("kept"));
        CHECK(store->meta_get("k") == "v");
        const auto state = store->connector_state("shopify");
        REQUIRE(state);
        CHECK(state->isolation == "in-process");
        CHECK(state->update_policy == "auto");
        CHECK(store->integrity_check() == "ok");
    }
    sqlite3* db = nullptr;
    sqlite3_open((dir / "j.db").c_str(), &db);
    sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    CHECK_THROWS_WITH_AS(open_sqlite_store(dir / "j.db"), doctest::Contains("newer Junction"), Error);
    sqlite3_open((dir / "j.db").c_str(), &db);
    sqlite3_exec(db, "UPDATE schema_version SET version = 8", nullptr, nullptr, nullptr);  // back to this build's
    sqlite3_close(db);
    CHECK(open_sqlite_store(dir / "j.db")->find_instance("kept"));
}
