// Flows through the real daemon against the simulators: the seed scenarios (one Shopify
// store to NetSuite; three stores UK/EU/US to one NetSuite, tagged by region), every
// record NetSuite received checked against an independent computation from the Shopify
// data; incremental runs; validation errors; the instance a flow uses cannot be deleted;
// crash safety: the daemon SIGKILLed at 20 random points of a 50,000-order sync; and the
// same sync with its store on PostgreSQL (issue 17).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "flow_test_daemon.hpp"
#include "order_sync.hpp"
#include "postgres_server.hpp"
#include "test_paths.hpp"
#include "test_scale.hpp"

#include <junction/core/net/http_client.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <csignal>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

using namespace junction::testing;
using junction::core::HttpClient;
using junction::testing::HttpAnswer;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST_CASE("one Shopify store to NetSuite: every sales order as computed, then only what changed") {
    Simulator shop({"--api", "shopify", "--items", "1200", "--token", "shpat_test"});
    NetSuite ns;
    Daemon d;
    d.add_instance("shopify", "shop", shopify_config(shop));
    d.add_instance("netsuite", "netsuite", ns.config());
    d.save_flow(sync_flow("orders-to-netsuite", {{"SHOP", "shop"}}));

    const auto run = d.wait_run(d.start_run("orders-to-netsuite"));
    CHECK(std::string(run["status"].GetString()) == "completed");
    const auto expected = expected_sales_orders(shop, "SHOP");
    CHECK(expected.size() == 1200 - 48);  // one order in 25 is cancelled
    check_sink(ns.received(), expected);
    CHECK(count(run, "read-SHOP", "out") == 1200);
    CHECK(count(run, "upsert", "out") == static_cast<int64_t>(expected.size()));
    CHECK(ns.received()["token_grants"].GetInt() == 1);

    // The next run starts at the newest updated_at delivered: only the last order again.
    const auto second = d.wait_run(d.start_run("orders-to-netsuite"));
    CHECK(std::string(second["status"].GetString()) == "completed");
    CHECK(count(second, "read-SHOP", "out") == 1);
    CHECK(std::string(second["start_cursors"]["read-SHOP"].GetString()) == "2026-01-01T19:59:30+00:00");

    // The instances the flow uses cannot be deleted; the refusal names the flow.
    const Answer refused = d.call("DELETE", "/v1/instances/netsuite");
    CHECK(refused.status == 400);
    CHECK(refused.body.find("orders-to-netsuite") != std::string::npos);

    // The run log and the API never show a credential.
    const Answer log = d.call("GET", "/v1/runs/" + std::string(run["id"].GetString()) + "/log");
    CHECK(log.status == 200);
    CHECK(log.body.find("shpat_test") == std::string::npos);
    CHECK(read_text(d.log_file()).find("shpat_test") == std::string::npos);
}

TEST_CASE("three Shopify stores (UK, EU, US) to one NetSuite, each order tagged with its region") {
    Simulator uk({"--api", "shopify", "--items", "300", "--token", "shpat_test"});
    Simulator eu({"--api", "shopify", "--items", "450", "--token", "shpat_test"});
    Simulator us({"--api", "shopify", "--items", "600", "--token", "shpat_test"});
    NetSuite ns;
    Daemon d;
    d.add_instance("shopify", "shop-uk", shopify_config(uk));
    d.add_instance("shopify", "shop-eu", shopify_config(eu));
    d.add_instance("shopify", "shop-us", shopify_config(us));
    d.add_instance("netsuite", "netsuite", ns.config());
    d.save_flow(sync_flow("stores-to-netsuite", {{"UK", "shop-uk"}, {"EU", "shop-eu"}, {"US", "shop-us"}}));
    const auto run = d.wait_run(d.start_run("stores-to-netsuite"));
    CHECK(std::string(run["status"].GetString()) == "completed");
    auto expected = expected_sales_orders(uk, "UK");
    expected.merge(expected_sales_orders(eu, "EU"));
    expected.merge(expected_sales_orders(us, "US"));
    CHECK(expected.size() == 288 + 432 + 576);
    check_sink(ns.received(), expected);
}

TEST_CASE("a flow that does not fit is refused with the shape and field of every problem") {
    Simulator shop({"--api", "shopify", "--items", "10", "--token", "shpat_test"});
    NetSuite ns;
    Daemon d;
    d.add_instance("shopify", "shop", shopify_config(shop));
    d.add_instance("netsuite", "netsuite", ns.config());
    const Answer a = d.call("POST", "/v1/flows", R"({"name": "broken", "trigger": {"type": "schedule", "cron": "61 * * * *"},
        "shapes": [
          {"id": "read", "type": "connection", "instance": "nowhere", "endpoint": "orders.receive", "direction": "receive", "next": "map"},
          {"id": "map", "type": "map", "fields": [{"target": "/x", "source": "no pointer", "transforms": [{"op": "shout"}]}], "next": "send"},
          {"id": "send", "type": "connection", "instance": "shop", "endpoint": "orders.receive", "direction": "send"}]})");
    CHECK(a.status == 400);
    for (const char* expected : {"at /trigger: cron '61 * * * *': minute must be 0-59", "at /shapes/0/instance: there is no instance 'nowhere'",
                                 "at /shapes/1/fields/0/transforms/0/op: 'shout' is not a transform",
                                 "at /shapes/2/direction: endpoint orders.receive is a receive endpoint, not send"})
        CHECK_MESSAGE(a.body.find(expected) != std::string::npos, expected << " in " << a.body);
    CHECK(Answer(d.call("GET", "/v1/flows")).json()["items"].Size() == 0);
}

TEST_CASE("crash safety: the daemon killed at 20 random points of a 50,000-order sync loses and repeats nothing") {
    const int64_t orders = scaled(50'000), kill_points = scaled(20, 4);  // test_scale.hpp
    Simulator shop({"--api", "shopify", "--items", std::to_string(orders), "--token", "shpat_test", "--rate-limit", "off"});
    NetSuite ns;
    Daemon d;
    d.add_instance("shopify", "shop", shopify_config(shop, false));
    d.add_instance("netsuite", "netsuite", ns.config());
    d.save_flow(sync_flow("big-sync", {{"SHOP", "shop"}}));
    const auto expected = expected_sales_orders(shop, "SHOP");
    REQUIRE(expected.size() == static_cast<size_t>(orders / 25 * 24));  // one in 25 is cancelled
    const std::string run_id = d.start_run("big-sync");

    // The kill points spread at random over the sync, by how many orders it has delivered.
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int64_t> point(0, orders * 47 / 50);
    std::vector<int64_t> points(static_cast<size_t>(kill_points));
    for (auto& p : points) p = point(random);
    std::sort(points.begin(), points.end());
    size_t kills = 0, last = 0;
    // After each restart the run checkpoints once more before the next kill: two crashes
    // with no progress between would fail it as a poison run (issue 13).
    int64_t resumed_at = -1;
    for (const int64_t target : points) {
        for (;;) {
            const auto r = d.run(run_id);
            const int64_t out = count(r, "upsert", "out");
            const std::string status = r["status"].GetString();
            if ((status != "running" && status != "queued") || (out >= target && out > resumed_at)) break;
            std::this_thread::sleep_for(5ms);
        }
        d.kill();
        ++kills;
        // Every time: NetSuite holds only orders that should be there, each exactly right.
        const auto received = ns.received();
        check_sink(received, expected, false);
        const size_t held = received.HasMember("salesOrder") ? received["salesOrder"].MemberCount() : 0;
        CHECK(held >= last);
        last = held;
        d.start();
        resumed_at = count(d.run(run_id), "upsert", "out");
    }
    INFO("killed " << kills << " times; NetSuite held " << last << " orders at the last kill");
    CHECK(kills == static_cast<size_t>(kill_points));
    const auto final_run = d.wait_run(run_id, 300s);
    CHECK_MESSAGE(std::string(final_run["status"].GetString()) == "completed", std::string(final_run["error"].GetString()));
    CHECK(final_run["resumed"].GetBool());
    check_sink(ns.received(), expected);
}

TEST_CASE("a daemon told to stop pauses its run at a page and resumes it when started again") {
    Simulator shop({"--api", "shopify", "--items", std::to_string(scaled(20'000, 2)), "--token", "shpat_test", "--rate-limit", "off"});
    NetSuite ns;
    Daemon d;
    const std::string run_id = start_sync_until(d, shop, ns, "paused-sync", 2000);
    CHECK(d.stop() == 0);
    // The stop let the page in hand finish and checkpoint (stop-grace), then paused.
    const std::string daemon_log = read_text(d.log_file());
    CHECK(daemon_log.find("runs to finish their pages") != std::string::npos);
    CHECK(daemon_log.find("did not reach a page boundary") == std::string::npos);
    d.start();
    const auto run = d.wait_run(run_id);
    CHECK(std::string(run["status"].GetString()) == "completed");
    CHECK(run["resumed"].GetBool());
    check_sink(ns.received(), expected_sales_orders(shop, "SHOP"));
    const std::string log = Answer(d.call("GET", "/v1/runs/" + run_id + "/log")).body;
    CHECK(log.find("resumed after the host stopped") != std::string::npos);
    CHECK(log.find("resuming after page") != std::string::npos);

    // The CLI shows the same run, in words.
    const RunResult shown = d.cli({"runs", "show", run_id});
    CHECK(shown.exit_code == 0);
    CHECK(shown.output.find("completed (resumed after a restart)") != std::string::npos);
    CHECK(shown.output.find("upsert") != std::string::npos);
    // Its log with readable times.
    const RunResult log_lines = d.cli({"runs", "log", run_id});
    CHECK_MESSAGE(std::regex_search(log_lines.output, std::regex(R"((^|\n)\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z info )")),
                  log_lines.output);
    const RunResult listed = d.cli({"runs", "list", "--flow", "paused-sync"});
    CHECK(listed.output.find(run_id) != std::string::npos);
    CHECK(d.cli({"flows", "list"}).output.find("paused-sync") != std::string::npos);
}

TEST_CASE("a drained daemon hands its run back at a page, takes no other, and says so in the cluster list") {
    Simulator shop({"--api", "shopify", "--items", std::to_string(scaled(20'000, 2)), "--token", "shpat_test", "--rate-limit", "off"});
    NetSuite ns;
    Daemon d;
    const std::string run_id = start_sync_until(d, shop, ns, "drained-sync", 2000);
    const Answer cluster = d.call("GET", "/v1/cluster");
    REQUIRE(cluster.status == 200);
    CHECK(cluster.body.find("\"runs\":[\"" + run_id + "\"]") != std::string::npos);  // held by this host

    const Answer drained = d.call("POST", "/v1/daemon/drain", R"({"grace_seconds": 30})");
    REQUIRE(drained.status == 200);
    CHECK(drained.json()["handed_back"].GetInt64() == 1);
    CHECK(std::string(d.run(run_id)["status"].GetString()) == "running");  // handed back, not ended
    const auto hosts = Answer(d.call("GET", "/v1/cluster")).json();
    REQUIRE(hosts["hosts"].Size() == 1);
    CHECK(std::string(hosts["hosts"][0]["state"].GetString()) == "draining");
    CHECK(hosts["hosts"][0]["runs"].Empty());
    CHECK(hosts["hosts"][0]["live"].GetBool());
    CHECK(d.cli({"daemon", "status"}).output.find("draining (this one)") != std::string::npos);
    // A drained host takes no run, not even one started through it.
    const std::string queued = d.start_run("drained-sync");
    std::this_thread::sleep_for(1500ms);
    CHECK(std::string(d.run(queued)["status"].GetString()) == "queued");
    CHECK(d.call("POST", "/v1/daemon/drain", R"({"grace_seconds": -1})").status == 400);

    // The next start takes the run back where the drain left it: nothing lost or repeated,
    // and no crash counted.
    CHECK(d.stop() == 0);
    d.start();
    const auto run = d.wait_run(run_id, 300s);
    CHECK_MESSAGE(std::string(run["status"].GetString()) == "completed", std::string(run["error"].GetString()));
    CHECK(run["resumed"].GetBool());
    check_sink(ns.received(), expected_sales_orders(shop, "SHOP"));
    CHECK(read_text(d.log_file()).find("run " + run_id + " was paused by a stop; resuming it") != std::string::npos);
    d.wait_run(queued, 300s);
    const auto after = Answer(d.call("GET", "/v1/cluster")).json();
    CHECK(std::string(after["hosts"][0]["state"].GetString()) == "running");
}

TEST_CASE("on PostgreSQL: the same sync, killed and restarted, loses and repeats nothing") {
    PostgresServer pg;
    pg.create_database("junction");
    REQUIRE(::setenv("PGPASSWORD", pg.password().c_str(), 1) == 0);  // as an operator's unit would
    Simulator shop({"--api", "shopify", "--items", "6000", "--token", "shpat_test", "--rate-limit", "off"});
    NetSuite ns;
    Daemon d({"--store", pg.url("junction")});
    d.add_instance("shopify", "shop", shopify_config(shop, false));
    d.add_instance("netsuite", "netsuite", ns.config());
    d.save_flow(sync_flow("pg-sync", {{"SHOP", "shop"}}));
    const auto expected = expected_sales_orders(shop, "SHOP");
    const std::string run_id = d.start_run("pg-sync");
    while (count(d.run(run_id), "upsert", "out") < 1000) std::this_thread::sleep_for(5ms);
    d.kill();
    CHECK_FALSE(fs::exists(d.state_dir() / "junction.db"));  // nothing went to SQLite
    check_sink(ns.received(), expected, false);

    d.start();
    const auto run = d.wait_run(run_id, 300s);
    CHECK_MESSAGE(std::string(run["status"].GetString()) == "completed", std::string(run["error"].GetString()));
    CHECK(run["resumed"].GetBool());
    check_sink(ns.received(), expected);
    const auto again = d.wait_run(d.start_run("pg-sync"));
    CHECK(count(again, "read-SHOP", "out") == 1);  // the cursor was kept in PostgreSQL too

    // The database holds the runs; no log line or answer shows the password.
    CHECK(pg.sql("SELECT count(*) FROM runs", "junction") == "2");
    CHECK(read_text(d.log_file()).find(pg.password()) == std::string::npos);
    const Answer daemon = d.call("GET", "/v1/daemon");
    CHECK(daemon.body.find(pg.password()) == std::string::npos);
    CHECK(daemon.body.find("\"store\":\"PostgreSQL postgresql://junction@127.0.0.1:" + std::to_string(pg.port()) +
                           "/junction\"") != std::string::npos);
    CHECK(d.cli({"daemon", "status"}).output.find("PostgreSQL postgresql://junction@") != std::string::npos);
    ::unsetenv("PGPASSWORD");
}

TEST_CASE("on PostgreSQL: a new host on the same database installs its connectors from it and runs the flows") {
    PostgresServer pg;
    pg.create_database("junction");
    REQUIRE(::setenv("PGPASSWORD", pg.password().c_str(), 1) == 0);
    Simulator shop({"--api", "shopify", "--items", "600", "--token", "shpat_test", "--rate-limit", "off"});
    NetSuite ns;
    const auto expected = expected_sales_orders(shop, "SHOP");
    std::string key;
    {
        Daemon first({"--store", pg.url("junction")});
        first.add_instance("shopify", "shop", shopify_config(shop, false));
        first.add_instance("netsuite", "netsuite", ns.config());
        first.save_flow(sync_flow("moved-sync", {{"SHOP", "shop"}}));
        CHECK(std::string(first.wait_run(first.start_run("moved-sync"))["status"].GetString()) == "completed");
        key = read_text(first.state_dir() / "master.key");
        CHECK(first.stop() == 0);
    }
    CHECK(pg.sql("SELECT count(*) FROM packages WHERE name IN ('rest', 'shopify', 'netsuite')", "junction") == "3");

    // A host with another master key is refused, naming the problem.
    TempDir stranger;
    REQUIRE(::setenv("JUNCTION_MASTER_KEY", std::string(64, '7').c_str(), 1) == 0);
    const RunResult refused = run_program({(bin_dir() / "junctiond").string(), "--state-dir", stranger.path().string(),
                                           "--listen", "127.0.0.1:0", "--store", pg.url("junction")});
    CHECK(refused.exit_code != 0);
    ::unsetenv("JUNCTION_MASTER_KEY");
    CHECK_MESSAGE(refused.output.find("is not the key this store's credentials were encrypted with") != std::string::npos,
                  refused.output);

    // A tampered package in the store is refused by the host that reads it, which starts anyway.
    pg.sql("UPDATE packages SET bytes = 'not a package' WHERE name = 'voyado'", "junction");
    // The new host has an empty plugin folder and the same master key (as JUNCTION_MASTER_KEY).
    REQUIRE(::setenv("JUNCTION_MASTER_KEY", key.c_str(), 1) == 0);
    JunctiondProcess second({}, {"--store", pg.url("junction"), "--allow-unsigned-from-store"});
    const std::string log = read_text(second.log_file());
    CHECK(log.find("connector shopify@") != std::string::npos);
    CHECK(log.find("installed from the store") != std::string::npos);
    CHECK(log.find("voyado@") != std::string::npos);
    CHECK(log.find("from the store refused") != std::string::npos);
    const Answer connectors = second.call("GET", "/v1/connectors");
    CHECK(connectors.body.find("\"shopify\"") != std::string::npos);
    CHECK(connectors.body.find("\"voyado\"") == std::string::npos);
    // Its instances and flows are the database's: the sync runs there, and the cursor the
    // first host kept means only what changed is read again.
    const Answer started = second.call("POST", "/v1/flows/moved-sync/runs", "");
    REQUIRE(started.status == 202);
    const std::string run_id = started.json()["id"].GetString();
    rapidjson::Document run;
    for (int i = 0; i < 3000; ++i) {
        run = Answer(second.call("GET", "/v1/runs/" + run_id)).json();
        if (std::string(run["status"].GetString()) != "queued" && std::string(run["status"].GetString()) != "running")
            break;
        std::this_thread::sleep_for(20ms);
    }
    CHECK_MESSAGE(std::string(run["status"].GetString()) == "completed", std::string(run["error"].GetString()));
    CHECK(count(run, "read-SHOP", "out") <= 1);
    check_sink(ns.received(), expected);
    CHECK(second.stop() == 0);

    // Unsigned packages from the database install only where the operator allowed them:
    // writing to the database is not writing to a host's plugin folder.
    JunctiondProcess strict({}, {"--store", pg.url("junction")});
    ::unsetenv("JUNCTION_MASTER_KEY");
    const std::string strict_log = read_text(strict.log_file());
    CHECK_MESSAGE(strict_log.find("allow-unsigned-from-store = true") != std::string::npos, strict_log);
    CHECK(Answer(strict.call("GET", "/v1/connectors")).body.find("\"shopify\"") == std::string::npos);
    // The package no host accepts is withdrawn through any host, installed there or not.
    CHECK(strict.call("DELETE", "/v1/connectors/voyado").status == 204);
    CHECK(pg.sql("SELECT count(*) FROM packages WHERE name = 'voyado'", "junction") == "0");
    CHECK(strict.call("DELETE", "/v1/connectors/voyado").status == 404);  // nothing left anywhere
    ::unsetenv("PGPASSWORD");
}
