// The Store through its interface, on SQLite and on PostgreSQL alike (issue 17): what
// callers rely on whatever the engine, and what several hosts on one database rely on.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "postgres_server.hpp"
#include "store_kinds.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/store/store.hpp>

#include <set>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

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
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
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
    });
}

TEST_CASE("listing pages by name and filters by connector") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
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
    });
}

TEST_CASE("a listed page carries each instance's sealed secrets and rotations, as found one by one") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        for (int i = 0; i < 7; ++i) {
            InstanceRecord r = record("id" + std::to_string(i), "n" + std::to_string(i));
            if (i % 3 == 0) r.secrets.clear();  // some have none
            if (i % 3 == 1) r.secrets.push_back({"password", std::string(12, 'p'), "sealed-pw-" + r.name});
            store->insert_instance(r);
        }
        CHECK(store->rotate_secret("id4", "token", [](const auto& configured, const auto&) {
            return std::optional<RotatedSecret>(RotatedSecret{"token", *configured, {"token", "n9", "rotated-4"}});
        }));
        InstanceQuery q;
        q.limit = 3;
        size_t seen = 0;
        for (;;) {
            const auto page = store->list_instances(q);
            for (const auto& listed : page) {
                CAPTURE(listed.name);
                const auto alone = store->find_instance(listed.id);
                REQUIRE(alone);
                REQUIRE(listed.secrets.size() == alone->secrets.size());
                for (size_t k = 0; k < listed.secrets.size(); ++k) {
                    CHECK(listed.secrets[k].field == alone->secrets[k].field);
                    CHECK(listed.secrets[k].nonce == alone->secrets[k].nonce);
                    CHECK(listed.secrets[k].ciphertext == alone->secrets[k].ciphertext);
                }
                REQUIRE(listed.rotated.size() == alone->rotated.size());
                if (!listed.rotated.empty()) CHECK(listed.rotated[0].value.ciphertext == "rotated-4");
                CHECK(listed.settings_json == alone->settings_json);
                CHECK(listed.revision == alone->revision);
                ++seen;
            }
            if (page.size() < q.limit) break;
            q.after_name = page.back().name;
        }
        CHECK(seen == 7);
        q = {};
        q.with_rotations = false;  // a listing for display
        for (const auto& listed : store->list_instances(q)) CHECK(listed.rotated.empty());
        q.with_sealed_values = false;  // the fields' names, and not a byte of what is sealed
        size_t named = 0;
        for (const auto& listed : store->list_instances(q)) {
            const auto alone = store->find_instance(listed.id);
            REQUIRE(listed.secrets.size() == alone->secrets.size());
            for (size_t k = 0; k < listed.secrets.size(); ++k, ++named) {
                CHECK(listed.secrets[k].field == alone->secrets[k].field);
                CHECK(listed.secrets[k].nonce.empty());
                CHECK(listed.secrets[k].ciphertext.empty());
            }
        }
        CHECK(named > 0);

        // A page larger than one group of bound ids: the rotation of its last instance too.
        for (int i = 0; i < 300; ++i) store->insert_instance(record("m" + std::to_string(i), "z" + std::to_string(1000 + i)));
        CHECK(store->rotate_secret("m299", "token", [](const auto& configured, const auto&) {
            return std::optional<RotatedSecret>(RotatedSecret{"token", *configured, {"token", "n9", "rotated-299"}});
        }));
        q = {};
        q.limit = 1000;
        const auto all = store->list_instances(q);
        REQUIRE(all.size() == 307);
        REQUIRE(all.back().id == "m299");
        REQUIRE(all.back().rotated.size() == 1);
        CHECK(all.back().rotated[0].value.ciphertext == "rotated-299");
    });
}

TEST_CASE("an instance write is a compare-and-set on the revision read") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
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
    });
}

TEST_CASE("every sealed value, snapshots' too, is re-sealed with meta in one transaction") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
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
    });
}

TEST_CASE("reopening keeps everything; a newer schema is refused, not damaged") {
    for_each_store([](StoreUnderTest& engine) {
        int version = 0;
        {
            auto store = engine.open();
            version = store->schema_version();
            CHECK(version == (engine.is_postgres() ? 6 : 13));
            store->insert_instance(record("i1", "kept"));
            store->meta_set("k", "v");
            store->put_connector_state({"shopify", "2.0.0", "1.0.0", "auto", "in-process"});
        }
        {
            auto store = engine.open();
            CHECK(store->find_instance("kept"));
            CHECK(store->meta_get("k") == "v");
            const auto state = store->connector_state("shopify");
            REQUIRE(state);
            CHECK(state->isolation == "in-process");
            CHECK(state->update_policy == "auto");
            CHECK(store->integrity_check() == "ok");
        }
        engine.sql("UPDATE schema_version SET version = 99");
        CHECK_THROWS_WITH_AS(engine.open(), doctest::Contains("newer Junction"), Error);
        engine.sql("UPDATE schema_version SET version = " + std::to_string(version));  // back to this build's
        CHECK(engine.open()->find_instance("kept"));
    });
}

TEST_CASE("what goes in comes out byte for byte, and names sort byte by byte on every engine") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        std::string every_byte;
        for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
        InstanceRecord r = record("i1", "Zürich");
        r.settings_json = R"({"shop":"Zürich ☃","empty":""})";
        r.secrets = {{"token", every_byte.substr(0, 12), every_byte}, {"key", "", ""}};
        store->insert_instance(r);
        store->state_set("i1", "cursor", every_byte);
        store->meta_set("binary", every_byte);
        const auto back = store->find_instance("Zürich");
        REQUIRE(back);
        CHECK(back->settings_json == r.settings_json);
        REQUIRE(back->secrets.size() == 2);
        for (const auto& s : back->secrets) {
            if (s.field == "token") CHECK(s.ciphertext == every_byte);
            else CHECK(s.ciphertext.empty());
        }
        CHECK(store->state_get("i1", "cursor") == every_byte);
        CHECK(store->meta_get("binary") == every_byte);
        CHECK(store->meta_get("absent") == std::nullopt);

        // An ICU or glibc locale would put "a" before "B" and "é" next to "e": the store's
        // order is the bytes', which paging after a name depends on.
        for (const std::string name : {"b", "B", "a", "A", "é", "e", "_x", "10", "9"})
            store->insert_instance(record("id-" + name, name));
        std::vector<std::string> names;
        InstanceQuery q;
        q.limit = 3;
        for (;;) {
            auto page = store->list_instances(q);
            for (const auto& i : page) names.push_back(i.name);
            if (page.size() < q.limit) break;
            q.after_name = page.back().name;
        }
        REQUIRE(names.size() == 10);
        CHECK(std::is_sorted(names.begin(), names.end()));
        CHECK(names.front() == "10");
    });
}

TEST_CASE("pins, connector state and history read back as written") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto pinned = record("i1", "one");
        pinned.version_pin = "1.0.0";
        store->insert_instance(pinned);
        store->insert_instance(record("i2", "two"));
        store->insert_instance(record("i3", "three", "netsuite"));
        CHECK(store->count_instances("shopify", true) == 1);
        const auto pins = store->count_instances_by_pin("shopify");
        CHECK(pins.at("") == 1);
        CHECK(pins.at("1.0.0") == 1);
        store->record_test("i2", "failing", "401 from the shop", 5000);
        const auto tested = store->find_instance("i2");
        CHECK(tested->test_status == "failing");
        CHECK(tested->test_detail == "401 from the shop");
        CHECK(tested->tested_ms == 5000);
        CHECK(tested->revision == 1);  // a test result is not a write of the config

        for (int i = 0; i < 5; ++i)
            store->append_history({0, "shopify", "apply", "1.0." + std::to_string(i), "1.0." + std::to_string(i + 1),
                                   "admin", 100 + i, "done", ""});
        store->append_history({0, "netsuite", "policy", "", "", "admin", 1, "done", "auto"});
        const auto history = store->history("shopify", 3);
        REQUIRE(history.size() == 3);
        CHECK(history[0].to_version == "1.0.5");  // newest first
        CHECK(history[0].seq > history[1].seq);
        store->delete_connector_state("shopify");
        CHECK_FALSE(store->connector_state("shopify"));
        store->state_delete("i1", "missing");  // deleting nothing is no error
    });
}

// Several hosts on one database: each is a connection of its own, and every write of shared
// state is a compare-and-set the database decides.
TEST_CASE("postgres: two hosts writing one instance lose no write; each sees the other's") {
    StoreUnderTest engine(StoreUnderTest::Engine::postgres);
    auto first = engine.open();
    auto second = engine.open();
    first->insert_instance(record("i1", "shared"));
    CHECK(second->find_instance("shared"));

    // Each host adds its own field to the settings, 40 times, re-reading when it lost a race.
    std::atomic<int> conflicts{0};
    auto writer = [&](Store& store, const std::string& field) {
        for (int i = 0; i < 40; ++i) {
            for (;;) {
                auto r = *store.find_instance("i1");
                r.settings_json = r.settings_json.substr(0, r.settings_json.size() - 1) + R"(,")" + field +
                                  std::to_string(i) + R"(":1})";
                try {
                    store.update_instance(r);
                    break;
                } catch (const Error& e) {
                    REQUIRE(e.code() == Errc::conflict);
                    ++conflicts;
                }
            }
        }
    };
    std::thread a([&] { writer(*first, "a"); });
    std::thread b([&] { writer(*second, "b"); });
    a.join();
    b.join();
    const auto now = first->find_instance("i1");
    CHECK(now->revision == 81);
    for (int i = 0; i < 40; ++i) {
        CHECK(now->settings_json.find("\"a" + std::to_string(i) + "\"") != std::string::npos);
        CHECK(now->settings_json.find("\"b" + std::to_string(i) + "\"") != std::string::npos);
    }
    MESSAGE("conflicts retried: " << conflicts.load());

    // A credential rotation through one host and a settings write through the other both stay.
    const auto read = *second->find_instance("i1");
    CHECK(first->rotate_secret("i1", "token", [](const auto& configured, const auto&) {
        return std::optional<RotatedSecret>(RotatedSecret{"token", *configured, {"token", "n9", "rotated"}});
    }));
    auto write = read;
    write.settings_json = R"({"shop":"after"})";
    CHECK(second->update_instance(write) == 82);
    const auto both = first->find_instance("i1");
    REQUIRE(both->rotated.size() == 1);
    CHECK(both->rotated[0].value.ciphertext == "rotated");
    CHECK(both->settings_json == R"({"shop":"after"})");
}

TEST_CASE("postgres: the master key re-seal excludes every other host's writes until it commits") {
    StoreUnderTest engine(StoreUnderTest::Engine::postgres);
    auto rotating = engine.open();
    auto other = engine.open();
    rotating->insert_instance(record("i1", "one"));
    std::atomic<bool> inside{false};
    std::atomic<bool> written{false};
    std::thread writer;
    rotating->reseal_all_secrets(
        [&](const std::string&, const SealedSecret& s) {
            if (inside.exchange(true)) return SealedSecret{s.field, "n2", "resealed"};
            // Another host writes while the re-seal holds its tables: it waits, then its
            // compare-and-set sees the re-seal's revision and fails instead of undoing it.
            writer = std::thread([&] {
                auto r = *other->find_instance("i1");
                r.settings_json = R"({"shop":"raced"})";
                try {
                    other->update_instance(r);
                } catch (const Error&) {
                }
                written = true;
            });
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            CHECK_FALSE(written.load());
            return SealedSecret{s.field, "n2", "resealed"};
        },
        {{"master_key_check", "new"}});
    writer.join();
    CHECK(inside.load());
    const auto now = rotating->find_instance("i1");
    CHECK(now->secrets[0].ciphertext == "resealed");
    CHECK(other->meta_get("master_key_check") == "new");
}

TEST_CASE("postgres: a lost connection is an error that says so, and the next call reconnects") {
    StoreUnderTest engine(StoreUnderTest::Engine::postgres);
    auto store = engine.open();
    store->insert_instance(record("i1", "one"));
    StoreUnderTest::postgres().sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                                   engine.database() + "' AND application_name = 'junctiond'");
    bool failed_once = false;
    try {
        store->find_instance("i1");
    } catch (const Error& e) {
        failed_once = true;
        CHECK(std::string(e.what()).find("lost the connection") != std::string::npos);
    }
    CHECK(failed_once);
    CHECK(store->find_instance("i1"));
}

TEST_CASE("postgres: a wrong password or a missing server is a message that names the database, never the "
          "password") {
    StoreUnderTest engine(StoreUnderTest::Engine::postgres);
    const std::string secret = "hunter2-not-the-password";
    const std::string with_password =
        "postgresql://junction:" + secret + "@127.0.0.1:" + std::to_string(StoreUnderTest::postgres().port()) + "/x";
    try {
        open_postgres_store(with_password);
        FAIL("a wrong password opened the store");
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK(message.find(secret) == std::string::npos);
        CHECK(message.find("password authentication failed") != std::string::npos);
        CHECK(message.find("PGPASSWORD") != std::string::npos);
        CHECK(message.find("127.0.0.1") != std::string::npos);
    }
    // A password libpq cannot read as one (a bad %-escape; a '/' that ends the host part
    // early, making pieces of it the port and the database) is not quoted either.
    const std::string port = std::to_string(StoreUnderTest::postgres().port());
    for (const std::string& url : {"postgresql://junction:hunt%zzer2pass@127.0.0.1:" + port + "/x",
                                   "postgresql://junction:hunter/secretword@127.0.0.1:" + port + "/x"}) {
        try {
            open_postgres_store(url);
            FAIL("a malformed URL opened the store");
        } catch (const Error& e) {
            const std::string message = std::string(e.what()) + " " + e.context();
            CHECK_MESSAGE(message.find("hunt%zzer2pass") == std::string::npos, message);
            CHECK_MESSAGE(message.find("hunter") == std::string::npos, message);
            CHECK_MESSAGE(message.find("secretword") == std::string::npos, message);
        }
    }
    try {
        open_postgres_store("postgresql://junction:" + secret + "@127.0.0.1:1/x");
        FAIL("a closed port opened the store");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find(secret) == std::string::npos);
        CHECK(std::string(e.what()).find("connect") != std::string::npos);
    }
}

TEST_CASE("the store setting: SQLite by default, PostgreSQL by URL, shared by several hosts") {
    TempDir dir;
    CHECK(open_store("", dir.path())->schema_version() == 13);
    CHECK_THROWS_WITH_AS(open_store("mysql://root:pw@db/x", dir.path()), doctest::Contains("PostgreSQL URL"), Error);
    try {
        open_store("mysql://root:pw-42@db/x", dir.path());
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("pw-42") == std::string::npos);
    }

    // Hosts share one database: what one writes, the other reads.
    StoreUnderTest engine(StoreUnderTest::Engine::postgres);
    auto host = open_store(engine.url(), dir.path());
    auto other = open_store(engine.url(), dir.path());
    CHECK(host->shared());
    CHECK_FALSE(open_store("", dir.path())->shared());
    host->meta_set("k", "v");
    CHECK(other->meta_get("k") == "v");
    // A junctiond from before several hosts (it takes the database alone, with this lock held
    // exclusively) would not start beside them.
    CHECK(StoreUnderTest::postgres().sql("SELECT pg_try_advisory_lock(7418055922)", engine.database()) == "f");

    // A broken connection fails the call that finds it; the next one connects again.
    StoreUnderTest::postgres().sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                                   engine.database() + "' AND application_name = 'junctiond'");
    CHECK_THROWS_WITH_AS(host->meta_get("k"), doctest::Contains("lost the connection"), Error);
    CHECK(host->meta_get("k") == "v");
}

TEST_CASE("packages: kept once per content hash, their bytes exactly; an uninstall is remembered") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        CHECK(store->shared() == engine.is_postgres());
        const std::string bytes("\x7f" "ELF\0\x01\xff binary", 14);
        StoredPackage p{"ab12", "shopify", "1.2.0", "shopify-1.2.0.connector.json", "c2ln", bytes, 1000};
        CHECK(store->put_package(p, false));
        p.added_ms = 2000;
        CHECK_FALSE(store->put_package(p, true));  // the same hash again
        store->put_package({"0f00", "rest", "1.0.0", "rest-1.0.0.so", "", "lib", 1500}, false);
        const auto listed = store->list_packages();
        REQUIRE(listed.size() == 2);
        CHECK(listed[0].sha256 == "ab12");  // oldest first
        CHECK(listed[0].added_ms == 1000);
        CHECK(listed[0].signature == "c2ln");
        CHECK(listed[0].bytes.empty());
        CHECK(listed[1].name == "rest");
        CHECK(store->package_bytes("ab12") == bytes);
        CHECK_FALSE(store->package_bytes("ffff"));

        store->put_package({"cd34", "shopify", "1.3.0", "shopify-1.3.0.connector.json", "", "v13", 3000}, false);
        CHECK(store->withdraw_packages("shopify", "1.2.0", 4000) == 1);
        CHECK(store->list_packages().size() == 2);
        CHECK(store->withdrawn_packages() == std::set<std::string>{"shopify@1.2.0"});
        // A host that still has 1.2.0 does not share it again; an admin's install does.
        CHECK_FALSE(store->put_package(p, false));
        CHECK(store->put_package(p, true));
        CHECK(store->withdrawn_packages().empty());
        CHECK(store->withdraw_packages("shopify", "", 5000) == 2);
        CHECK(store->withdrawn_packages() == std::set<std::string>{"shopify@1.2.0", "shopify@1.3.0"});
        REQUIRE(store->list_packages().size() == 1);
        CHECK(store->list_packages()[0].name == "rest");
        CHECK(store->withdraw_packages("nothing", "9", 6000) == 0);
        CHECK(store->withdrawn_packages().count("nothing@9"));  // a version only some host had
    });
}
