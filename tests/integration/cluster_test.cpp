// Three junctiond hosts on one PostgreSQL database (issue 17), as an operator runs them:
// - a connector installed through host A loads on B and C; an update applied through B
//   while runs go on on all three moves every instance on every host (the apply answers
//   once every host runs it), with no failed run; a rollback through C and an update that
//   migrates the instance's config through A do the same; a host with another master key
//   is refused;
// - a host that refuses a version is named by the apply and moves no one else's version;
// - a 50,000-order sync whose host is SIGKILLed at random points is completed by the others,
//   every sales order in NetSuite exactly as computed and none lost; a drained host hands
//   its run over to another at once.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "flow_test_daemon.hpp"
#include "order_sync.hpp"
#include "postgres_server.hpp"
#include "test_paths.hpp"
#include "test_scale.hpp"

#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Every host holds the same master key (here from the environment, as a unit file would
// give it) and the same database; each has its own state directory and plugin folder.
struct Cluster {
    PostgresServer pg;
    std::vector<std::unique_ptr<Daemon>> hosts;
    std::vector<std::string> ids;  // each host's id, as the cluster lists it

    // The last `strict` hosts take no unsigned package from the database.
    explicit Cluster(size_t n, size_t strict = 0) {
        pg.create_database("junction");
        REQUIRE(::setenv("PGPASSWORD", pg.password().c_str(), 1) == 0);
        REQUIRE(::setenv("JUNCTION_MASTER_KEY", kKey, 1) == 0);
        for (size_t i = 0; i < n; ++i) {
            // Packages come unsigned from the hosts' folders in the tests: each host allows
            // them from the database too, unless it is strict.
            std::vector<std::string> settings{"--store", pg.url("junction")};
            if (i < n - strict) settings.push_back("--allow-unsigned-from-store");
            hosts.push_back(std::make_unique<Daemon>(settings));
            ids.push_back(Answer(hosts.back()->call("GET", "/v1/cluster")).json()["this_host"].GetString());
        }
    }
    ~Cluster() {
        hosts.clear();
        ::unsetenv("JUNCTION_MASTER_KEY");
        ::unsetenv("PGPASSWORD");
    }
    Daemon& host(const std::string& id) {
        for (size_t i = 0; i < ids.size(); ++i)
            if (ids[i] == id) return *hosts[i];
        FAIL("no host " << id);
        throw std::logic_error("unreachable");
    }
    // connector -> version, as each live host's heartbeat says it runs them.
    std::map<std::string, std::string> versions_on(const std::string& id, const std::string& connector) {
        std::map<std::string, std::string> out;
        const auto cluster = Answer(hosts[0]->call("GET", "/v1/cluster")).json();
        for (const auto& h : cluster["hosts"].GetArray())
            if (h["id"].GetString() == id && h["connectors"].HasMember(connector.c_str()))
                out[connector] = h["connectors"][connector.c_str()].GetString();
        return out;
    }

    // When a wait fails: the run as the database has it, and how each live host's log ends.
    std::string report(const std::string& run_id) {
        std::string out;
        for (size_t i = 0; i < hosts.size(); ++i) {
            if (hosts[i]->pid() <= 0) continue;  // killed, not started again yet
            if (out.empty()) {
                try {
                    out = hosts[i]->call("GET", "/v1/runs/" + run_id).body + "\n";
                } catch (const std::exception& e) {  // a host that died on its own
                    out = ids[i] + " does not answer: " + e.what() + "\n";
                }
            }
            const std::string log = read_text(hosts[i]->log_file());
            out += "--- " + ids[i] + "'s log ends with:\n" + log.substr(log.size() - std::min<size_t>(log.size(), 3000)) + "\n";
        }
        return out;
    }

    static constexpr const char* kKey = "6a756e6374696f6e2d636c75737465722d746573742d6b65792d303030303030";
};

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (f()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

std::string echo_payload(int records) {
    std::string payload;
    for (int i = 1; i <= records; ++i) payload += (i > 1 ? "," : "") + std::string(R"({"id":)") + std::to_string(i) + "}";
    return R"({"payload": [)" + payload + "]}";
}

}  // namespace

TEST_CASE("three hosts: installed through one, updated through another while all run, rolled back through a third") {
    Cluster c(3);
    Daemon& a = *c.hosts[0];
    Daemon& b = *c.hosts[1];
    Daemon& cc = *c.hosts[2];
    const Answer listed = a.call("GET", "/v1/cluster");
    REQUIRE(listed.json()["hosts"].Size() == 3);

    // Installed through A (an upload none of the others has in its folder): B and C load it.
    const Answer installed = a.call("POST", "/v1/connectors/upload?file=conformance.so", read_text(fixture("conformance")));
    REQUIRE_MESSAGE(installed.status == 201, installed.body);
    for (Daemon* h : {&b, &cc})
        CHECK(eventually([&] { return Answer(h->call("GET", "/v1/connectors")).body.find("\"conformance\"") != std::string::npos; }));
    // Once each host runs it (a host installs the package, then activates the store's
    // version, in one look): an instance and a flow saved through A and C are everyone's.
    for (const auto& id : c.ids) REQUIRE(eventually([&] { return c.versions_on(id, "conformance")["conformance"] == "1.0.0"; }));
    a.add_instance("conformance", "echo", R"({"label": "echo", "api_token": "t"})");
    cc.save_flow(R"({"name": "echo-flow", "trigger": {"type": "manual"}, "shapes": [
      {"id": "send", "type": "connection", "instance": "echo", "endpoint": "echo", "direction": "send",
       "batch_size": 1, "concurrency": 2}]})");

    // Runs go on through every host while 1.1.0 is installed through B and applied there.
    std::atomic<bool> stop{false};
    std::atomic<int> runs{0}, failed{0};
    std::vector<std::string> failures;
    std::mutex failures_mutex;
    std::vector<std::thread> load;
    for (Daemon* h : {&a, &b, &cc}) {
        load.emplace_back([&, h] {
            while (!stop) {
                const Answer started = h->call("POST", "/v1/flows/echo-flow/runs", echo_payload(50));
                if (started.status != 202) {
                    ++failed;
                    std::lock_guard lock(failures_mutex);
                    failures.push_back(started.body);
                    continue;
                }
                const std::string id = started.json()["id"].GetString();
                rapidjson::Document run;
                for (;;) {
                    run = h->run(id);
                    const std::string status = run["status"].GetString();
                    if (status != "queued" && status != "running") break;
                    std::this_thread::sleep_for(10ms);
                }
                ++runs;
                if (std::string(run["status"].GetString()) != "completed" || count(run, "send", "out") != 50) {
                    ++failed;
                    std::lock_guard lock(failures_mutex);
                    failures.push_back(std::string(run["status"].GetString()) + ": " + run["error"].GetString());
                }
            }
        });
    }
    std::this_thread::sleep_for(1s);
    const Answer uploaded = b.call("POST", "/v1/connectors/upload?file=conformance.so", read_text(fixture("conformance_v1_1")));
    REQUIRE_MESSAGE(uploaded.status == 201, uploaded.body);
    const Answer applied = b.call("POST", "/v1/connectors/conformance/apply", R"({"version": "1.1.0"})");
    REQUIRE_MESSAGE(applied.status == 200, applied.body);
    // The apply answered once every live host ran 1.1.0, and says which they are.
    const auto report = applied.json();
    CHECK(report["hosts"]["switched"].Size() == 3);
    CHECK(report["hosts"]["not_switched"].Empty());
    CHECK(report["hosts"]["switched"][0]["id"].GetString() == c.ids[1]);  // the host that applied it first
    for (const auto& id : c.ids) CHECK(c.versions_on(id, "conformance")["conformance"] == "1.1.0");
    std::this_thread::sleep_for(1s);

    // The rollback through C, the runs still going.
    const Answer rolled = cc.call("POST", "/v1/connectors/conformance/rollback");
    REQUIRE_MESSAGE(rolled.status == 200, rolled.body);
    CHECK(rolled.json()["hosts"]["switched"].Size() == 3);
    for (const auto& id : c.ids) CHECK(c.versions_on(id, "conformance")["conformance"] == "1.0.0");
    std::this_thread::sleep_for(1s);

    // 2.0.0 renames a config field: the update through A migrates the instance's config, and
    // B and C, which build it from the migrated record before or after they follow, run it
    // on 2.0.0, not on the version they ran a moment before.
    const Answer v2 = a.call("POST", "/v1/connectors/upload?file=conformance.so", read_text(fixture("conformance_v2")));
    REQUIRE_MESSAGE(v2.status == 201, v2.body);
    const Answer migrated = a.call("POST", "/v1/connectors/conformance/apply", R"({"version": "2.0.0"})");
    REQUIRE_MESSAGE(migrated.status == 200, migrated.body);
    CHECK(migrated.json()["configs_migrated"].GetInt64() == 1);
    CHECK(migrated.json()["hosts"]["switched"].Size() == 3);
    std::this_thread::sleep_for(1s);
    stop = true;
    for (auto& t : load) t.join();
    MESSAGE("runs: " << runs.load() << ", failed: " << failed.load() << (failures.empty() ? "" : "; first: " + failures.front()));
    CHECK(runs >= 6);
    CHECK(failed == 0);
    // Each host says which host followed whose switch, and the history has the switch once.
    for (Daemon* h : {&a, &cc}) CHECK(read_text(h->log_file()).find("followed the switch recorded by another host") != std::string::npos);
    const auto history = Answer(a.call("GET", "/v1/connectors/conformance/history")).json();
    int applies = 0;
    for (const auto& e : history["items"].GetArray())
        applies += std::string(e["action"].GetString()) == "apply" && std::string(e["outcome"].GetString()) == "done";
    CHECK(applies == 2);
    // The CLI through any host shows the hosts and the answer of a switch in words; the
    // rollback puts the config back as it was on 1.0.0 (the snapshot), on every host.
    const RunResult status = a.cli({"daemon", "status"});
    CHECK(status.output.find("hosts on this store") != std::string::npos);
    const RunResult again = b.cli({"connectors", "rollback", "conformance"});
    CHECK_MESSAGE(again.output.find("every live host runs it") != std::string::npos, again.output);
    CHECK(again.output.find("1 restored") != std::string::npos);
    for (Daemon* h : {&a, &b, &cc}) {
        const auto run = h->wait_run(h->start_run("echo-flow", echo_payload(5)));
        CHECK_MESSAGE(std::string(run["status"].GetString()) == "completed", std::string(run["error"].GetString()));
    }

    // A host with another master key is refused, naming the problem, and changes nothing.
    TempDir stranger;
    REQUIRE(::setenv("JUNCTION_MASTER_KEY", std::string(64, '7').c_str(), 1) == 0);
    const RunResult refused = run_program({(bin_dir() / "junctiond").string(), "--state-dir", stranger.path().string(),
                                           "--listen", "127.0.0.1:0", "--store", c.pg.url("junction")});
    REQUIRE(::setenv("JUNCTION_MASTER_KEY", Cluster::kKey, 1) == 0);
    CHECK(refused.exit_code != 0);
    CHECK_MESSAGE(refused.output.find("is not the key this store's credentials were encrypted with") != std::string::npos,
                  refused.output);
    CHECK(Answer(a.call("GET", "/v1/cluster")).json()["hosts"].Size() == 3);
}

TEST_CASE("three hosts: a host that refuses a version is named by the apply, and changes nobody's version") {
    Cluster c(3, 1);  // the third takes no unsigned package from the database
    Daemon& a = *c.hosts[0];
    Daemon& strict = *c.hosts[2];
    REQUIRE(a.call("POST", "/v1/connectors/upload?file=conformance.so", read_text(fixture("conformance"))).status == 201);
    a.add_instance("conformance", "echo", R"({"label": "echo", "api_token": "t"})");
    REQUIRE(a.call("POST", "/v1/connectors/upload?file=conformance.so", read_text(fixture("conformance_v1_1"))).status == 201);
    CHECK(eventually([&] { return c.versions_on(c.ids[1], "conformance")["conformance"] == "1.0.0"; }));

    // The apply answers after its wait, naming the host that does not run the new version.
    const Answer applied = a.call("POST", "/v1/connectors/conformance/apply", R"({"version": "1.1.0"})");
    REQUIRE_MESSAGE(applied.status == 200, applied.body);
    const auto report = applied.json();
    CHECK(report["hosts"]["switched"].Size() == 2);
    REQUIRE(report["hosts"]["not_switched"].Size() == 1);
    CHECK(report["hosts"]["not_switched"][0]["id"].GetString() == c.ids[2]);
    const std::string strict_log = read_text(strict.log_file());
    CHECK(strict_log.find("conformance@1.1.0 from the store refused") != std::string::npos);
    CHECK(read_text(a.log_file()).find("does not run conformance 1.1.0") != std::string::npos);
    const RunResult status = a.cli({"daemon", "status"});
    CHECK_MESSAGE(status.output.find("conformance runs different versions on the live hosts") == std::string::npos,
                  status.output);  // the strict host runs no version of it at all

    // Restarted, it does not move the others to a version it has (it has none here; a host
    // with an older one would not either).
    CHECK(strict.stop() == 0);
    strict.start();
    std::this_thread::sleep_for(2s);
    for (const auto& id : {c.ids[0], c.ids[1]}) CHECK(c.versions_on(id, "conformance")["conformance"] == "1.1.0");
    const auto state = Answer(a.call("GET", "/v1/connectors/conformance")).json();
    CHECK(std::string(state["status"]["active_version"].GetString()) == "1.1.0");
}

TEST_CASE("three hosts: a 50,000-order sync whose host is killed at random points is completed by the others") {
    Cluster c(3);
    const int64_t orders = scaled(50'000);  // test_scale.hpp
    Simulator shop({"--api", "shopify", "--items", std::to_string(orders), "--token", "shpat_test", "--rate-limit", "off"});
    NetSuite ns;
    Daemon& a = *c.hosts[0];
    a.add_instance("shopify", "shop", shopify_config(shop, false));
    a.add_instance("netsuite", "netsuite", ns.config());
    a.save_flow(sync_flow("big-sync", {{"SHOP", "shop"}}));
    const auto expected = expected_sales_orders(shop, "SHOP");
    REQUIRE(expected.size() == static_cast<size_t>(orders / 25 * 24));  // one in 25 is cancelled
    const std::string run_id = a.start_run("big-sync");

    // Who holds the run, once it has moved past `progress` (a host that took it over has
    // checkpointed since: two crashes with no progress between would fail it as poison).
    auto holder_after = [&](int64_t progress) {
        std::string holder;
        REQUIRE(eventually([&] {
            const auto run = c.hosts[0]->run(run_id);
            holder = run["host"].GetString();
            return std::string(run["status"].GetString()) != "running" ||
                   (!holder.empty() && count(run, "upsert", "out") > progress);
        }, 120s));
        return holder;
    };
    std::mt19937 random(std::random_device{}());
    // The last point leaves more than half the orders: the drain below finds the run running.
    std::uniform_int_distribution<int64_t> point(orders / 25, orders * 2 / 5);
    std::vector<int64_t> points(static_cast<size_t>(scaled(4, 2)));
    for (auto& p : points) p = point(random);
    std::sort(points.begin(), points.end());
    int64_t progress = 0;
    std::vector<double> takeovers;
    for (const int64_t target : points) {
        std::string holder = holder_after(progress);
        REQUIRE(eventually([&] { return count(c.hosts[0]->run(run_id), "upsert", "out") >= target; }, 300s));
        holder = c.hosts[0]->run(run_id)["host"].GetString();
        // The first host is the one the test asks; kill another when it holds the run.
        Daemon& victim = c.host(holder);
        const auto killed_at = std::chrono::steady_clock::now();
        victim.kill();
        Daemon& asker = &victim == c.hosts[0].get() ? *c.hosts[1] : *c.hosts[0];
        check_sink(ns.received(), expected, false);
        std::string next;
        const bool taken_over = eventually([&] {
            next = asker.run(run_id)["host"].GetString();
            return !next.empty() && next != holder;
        }, 60s);
        if (!taken_over) FAIL("no host took the run over within 60 s of " << holder << "'s end:\n" << c.report(run_id));
        takeovers.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count());
        progress = count(asker.run(run_id), "upsert", "out");
        victim.start();  // back in the cluster, holding nothing
        if (&victim == c.hosts[0].get()) holder_after(progress);
    }
    std::string takeover_text;
    for (double t : takeovers) takeover_text += std::to_string(t).substr(0, 4) + " s ";
    MESSAGE("taken over after " << takeover_text << "(the lease is 6 s)");

    // The host that holds it now is drained: the run goes to another host at once.
    const std::string holder = holder_after(progress);
    const Answer drained = c.host(holder).call("POST", "/v1/daemon/drain", R"({"grace_seconds": 30})");
    REQUIRE(drained.status == 200);
    const bool running_at_drain = std::string(a.run(run_id)["status"].GetString()) == "running";
    if (running_at_drain) {
        CHECK(drained.json()["handed_back"].GetInt64() == 1);
        CHECK(eventually([&] {
            const std::string h = a.run(run_id)["host"].GetString();
            return !h.empty() && h != holder;
        }, 10s));
    }
    const auto final_run = a.wait_run(run_id, 600s);
    CHECK_MESSAGE(std::string(final_run["status"].GetString()) == "completed", std::string(final_run["error"].GetString()));
    CHECK(final_run["resumed"].GetBool());
    check_sink(ns.received(), expected);  // every order exactly as computed, none lost
    if (running_at_drain)
        CHECK(std::string(final_run["host"].GetString()) != holder);
    else
        MESSAGE("the run completed before the drain: the drain moved nothing");
}
