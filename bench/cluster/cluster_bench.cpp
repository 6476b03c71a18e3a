// bench_cluster: 1, 2 and 3 junctiond hosts on one PostgreSQL database (issue 17), in one run.
//
// For each cluster size, on a fresh database:
// - many small flows: RUNS runs of a 10-record flow (the conformance connector's echo),
//   started round-robin through every host by 4 client threads as fast as they answer;
//   runs per second from the first start to the last end, and the time from a run's start
//   request to its end (p50, p99) beside the time one such run takes alone, so the
//   difference is the time it waited in the queue;
// - one large order sync (Shopify -> NetSuite, ORDERS orders, 8 in flight) started through
//   the first host: records per second as a share of the NetSuite simulator's ceiling
//   measured in the same run by a tight client; then, with two or more hosts, the same sync
//   again with the host running it SIGKILLed a quarter of the way: the time until another
//   host holds the run (the takeover; the lease is 6 s, the target under 10 s).
//
//   bench_cluster [--runs N] [--orders N] [--hosts 1,2,3]
#include "bench_machine.hpp"
#include "netsuite_ceiling.hpp"

#include "postgres_server.hpp"
#include "service_processes.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

using namespace junction::testing;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr const char* kMasterKey = "62656e63682d636c75737465722d6d61737465722d6b65792d30303030303030";

rapidjson::Document json(const HttpAnswer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    if (d.HasParseError()) throw std::runtime_error("not JSON (HTTP " + std::to_string(a.status) + "): " + a.body);
    return d;
}

HttpAnswer must(const HttpAnswer& a, int status) {
    if (a.status != status) throw std::runtime_error("HTTP " + std::to_string(a.status) + ": " + a.body);
    return a;
}

const char* kSmallFlow = R"({"name": "small", "trigger": {"type": "manual"}, "shapes": [
  {"id": "send", "type": "connection", "instance": "echo", "endpoint": "echo", "direction": "send", "batch_size": 10}]})";

std::string order_flow(const std::string& name) {
    return R"({"name": ")" + name + R"(", "trigger": {"type": "manual"}, "shapes": [
  {"id": "orders", "type": "connection", "instance": "shop", "endpoint": "orders.receive", "direction": "receive", "next": "to-sales-order"},
  {"id": "to-sales-order", "type": "map", "next": "upsert", "fields": [
    {"target": "/externalId", "source": "/id", "transforms": [{"op": "to_string"}, {"op": "prefix", "value": "SHOP-"}]},
    {"target": "/memo", "source": "/name"},
    {"target": "/entity/email", "source": "/email"},
    {"target": "/total", "source": "/total_price", "transforms": [{"op": "to_number"}]}]},
  {"id": "upsert", "type": "connection", "instance": "netsuite", "endpoint": "salesorder.upsert", "direction": "send",
   "batch_size": 100, "concurrency": 8}]})";
}

std::string payload() {
    std::string p;
    for (int i = 1; i <= 10; ++i) p += (i > 1 ? "," : "") + std::string(R"({"id":)") + std::to_string(i) + "}";
    return R"({"payload": [)" + p + "]}";
}

rapidjson::Document wait_run(const JunctiondProcess& d, const std::string& id) {
    for (;;) {
        rapidjson::Document r = json(d.call("GET", "/v1/runs/" + id));
        const std::string status = r["status"].GetString();
        if (status != "queued" && status != "running") {
            if (status != "completed") throw std::runtime_error("run " + id + " ended " + status + ": " + r["error"].GetString());
            return r;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

double percentile(std::vector<int64_t> v, double p) {
    std::sort(v.begin(), v.end());
    return static_cast<double>(v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]);
}

struct Figures {
    size_t hosts = 0;
    double runs_per_second = 0, p50_ms = 0, p99_ms = 0, alone_ms = 0;
    double records_per_second = 0, ceiling_per_second = 0, takeover_s = 0;
};

Figures measure(const PostgresServer& pg, size_t hosts, int runs, long orders, const fs::path& keys) {
    const std::string database = "bench_" + std::to_string(hosts);
    pg.create_database(database);
    std::vector<std::unique_ptr<JunctiondProcess>> cluster;
    for (size_t i = 0; i < hosts; ++i)
        cluster.push_back(std::make_unique<JunctiondProcess>(
            std::vector<std::string>{"rest.so", "shopify.connector.json", "netsuite.connector.json"},
            std::vector<std::string>{"--store", pg.url(database), "--allow-unsigned-from-store"}));
    auto& first = *cluster[0];
    must(first.call("POST", "/v1/connectors/upload?file=conformance.so", read_text(fixture("conformance"))), 201);
    must(first.call("POST", "/v1/instances", R"({"connector":"conformance","name":"echo","config":{"label":"e","api_token":"t"}})"), 201);
    must(first.call("POST", "/v1/flows", kSmallFlow), 201);
    // Every host runs the connector before the clock starts (it was installed through the first).
    for (auto& h : cluster)
        while (h->call("GET", "/v1/connectors").body.find("\"conformance\"") == std::string::npos)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));

    Figures f;
    f.hosts = hosts;
    const std::string body = payload();
    {
        const auto alone = wait_run(first, json(must(first.call("POST", "/v1/flows/small/runs", body), 202))["id"].GetString());
        f.alone_ms = static_cast<double>(alone["ended_ms"].GetInt64() - alone["started_ms"].GetInt64());
    }
    std::vector<std::string> ids(static_cast<size_t>(runs));
    std::atomic<int> next{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c)
        clients.emplace_back([&] {
            for (int i; (i = next++) < runs;) {
                const auto& h = *cluster[static_cast<size_t>(i) % hosts];
                ids[static_cast<size_t>(i)] = json(must(h.call("POST", "/v1/flows/small/runs", body), 202))["id"].GetString();
            }
        });
    for (auto& c : clients) c.join();
    std::vector<int64_t> latencies;
    int64_t first_start = INT64_MAX, last_end = 0;
    for (const auto& id : ids) {
        const auto r = wait_run(first, id);
        first_start = std::min(first_start, r["started_ms"].GetInt64());
        last_end = std::max(last_end, r["ended_ms"].GetInt64());
        latencies.push_back(r["ended_ms"].GetInt64() - r["started_ms"].GetInt64());
    }
    f.runs_per_second = runs * 1000.0 / static_cast<double>(std::max<int64_t>(1, last_end - first_start));
    f.p50_ms = percentile(latencies, 0.50);
    f.p99_ms = percentile(latencies, 0.99);

    // One large order sync; with a second host, its host is killed a quarter of the way.
    SimulatorProcess shop({"--api", "shopify", "--items", std::to_string(orders), "--token", "shpat_bench", "--rate-limit",
                           "off", "--record", "0"});
    SimulatorProcess ns({"--api", "netsuite", "--public-key", (keys / "ns.pub").string(), "--client-id", "bench",
                         "--bench-token", "bench-token", "--record", "0"});
    must(first.call("POST", "/v1/instances", R"({"connector":"shopify","name":"shop","config":{"store_url":")" + shop.url() +
                                                 R"(","api_key":"shpat_bench","rate_limit_per_second":0}})"), 201);
    must(first.call("POST", "/v1/instances", R"({"connector":"netsuite","name":"netsuite","config":{"account_url":")" +
                                                 ns.url() + R"(","client_id":"bench","key_id":"k1","rate_limit_per_second":0,"private_key":)" +
                                                 json_text(read_text(keys / "ns.pem")) + "}}"), 201);
    must(first.call("POST", "/v1/flows", order_flow("order-sync")), 201);
    const auto t0 = Clock::now();
    wait_run(first, json(must(first.call("POST", "/v1/flows/order-sync/runs"), 202))["id"].GetString());
    f.records_per_second = static_cast<double>(json(ns.control("GET", "/_sim/stats"))["records"].GetInt64()) /
                           std::chrono::duration<double>(Clock::now() - t0).count();
    f.ceiling_per_second = bench::netsuite_ceiling(ns.url(), 8, std::min<size_t>(static_cast<size_t>(orders), 20'000));
    if (hosts < 2) return f;

    // The same sync again (a flow of its own, so it reads every order), its host killed a
    // quarter of the way: how long until another host holds the run.
    must(first.call("POST", "/v1/flows", order_flow("order-sync-killed")), 201);
    const std::string id = json(must(first.call("POST", "/v1/flows/order-sync-killed/runs"), 202))["id"].GetString();
    std::string holder;
    for (;;) {
        const auto r = json(cluster[hosts - 1]->call("GET", "/v1/runs/" + id));
        holder = r["host"].GetString();
        if (r["counts"].HasMember("upsert") && r["counts"]["upsert"]["out"].GetInt64() >= orders / 4) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    JunctiondProcess* victim = nullptr;
    for (auto& h : cluster)
        if (json(h->call("GET", "/v1/cluster"))["this_host"].GetString() == holder) victim = h.get();
    JunctiondProcess* asker = victim == cluster[0].get() ? cluster[1].get() : cluster[0].get();
    const auto killed = Clock::now();
    victim->kill();
    for (;;) {
        const std::string now_on = json(asker->call("GET", "/v1/runs/" + id))["host"].GetString();
        if (!now_on.empty() && now_on != holder) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    f.takeover_s = std::chrono::duration<double>(Clock::now() - killed).count();
    wait_run(*asker, id);
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 400;
    long orders = 20'000;
    std::vector<size_t> sizes{1, 2, 3};
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
        else if (arg == "--orders") orders = std::max(1000L, std::atol(argv[i + 1]));
        else if (arg == "--hosts") {
            sizes.clear();
            for (const char* p = argv[i + 1]; *p; ++p)
                if (*p >= '1' && *p <= '9') sizes.push_back(static_cast<size_t>(*p - '0'));
        } else {
            std::fprintf(stderr, "usage: bench_cluster [--runs N] [--orders N] [--hosts 1,2,3]\n");
            return 2;
        }
    }
    TempDir keys;
    if (run_program({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                     (keys / "ns.pem").string()}).exit_code != 0 ||
        run_program({"/usr/bin/openssl", "pkey", "-in", (keys / "ns.pem").string(), "-pubout", "-out",
                     (keys / "ns.pub").string()}).exit_code != 0) {
        std::fprintf(stderr, "bench_cluster: openssl could not make a key pair\n");
        return 1;
    }
    PostgresServer pg;
    ::setenv("PGPASSWORD", pg.password().c_str(), 1);
    ::setenv("JUNCTION_MASTER_KEY", kMasterKey, 1);
    std::printf("bench_cluster: junctiond hosts on one PostgreSQL (a local server, same machine); %d runs of a 10-record "
                "flow started round-robin through the hosts by 4 clients; one %ld-order sync\n",
                runs, orders);
    std::printf("machine: %s, %u hardware threads\n", bench::cpu_model().c_str(), std::thread::hardware_concurrency());
    std::printf("%-6s %9s %8s %11s %11s %12s %10s %10s %7s %12s\n", "hosts", "runs/s", "x 1 host", "p50 ms",
                "p99 ms", "alone ms", "orders/s", "ceiling/s", "share", "takeover s");
    double one_host = 0;
    for (const size_t n : sizes) {
        const Figures f = measure(pg, n, runs, orders, keys.path());
        if (one_host == 0) one_host = f.runs_per_second;
        char takeover[32] = "-";
        if (f.takeover_s > 0) std::snprintf(takeover, sizeof takeover, "%.2f", f.takeover_s);
        std::printf("%-6zu %9.1f %8.2f %11.0f %11.0f %12.0f %10.0f %10.0f %6.0f%% %12s\n", f.hosts, f.runs_per_second,
                    f.runs_per_second / one_host, f.p50_ms, f.p99_ms, f.alone_ms, f.records_per_second,
                    f.ceiling_per_second, 100.0 * f.records_per_second / f.ceiling_per_second, takeover);
        std::fflush(stdout);
    }
    std::printf("p50/p99: from a run's start request to its end (the run alone takes the 'alone' time; the rest is "
                "queueing); orders/s: the sync from its start request to its end; share: of the NetSuite ceiling\n");
    return 0;
}
