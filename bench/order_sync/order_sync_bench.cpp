// bench_order_sync: the Shopify-to-NetSuite flow through the real daemon against the
// simulators: receive 250 orders per page, map to a sales order, filter out cancelled
// orders, upsert one record per request, 8 in flight (--concurrency). For each size, with the
// connectors in connector processes (the default) and in junctiond, alternating: records
// per second, peak memory and CPU seconds of the whole host (junctiond and its connector
// processes), the time from the trigger to the first record at NetSuite; and the NetSuite
// simulator's own ceiling measured in the same run by a tight client (8 threads of libcurl
// PUTs with a fixed bearer, no Junction).
//
//   bench_order_sync                       20,000 (3 rounds) and 200,000 orders (1 round)
//   bench_order_sync [--rounds N] SIZE...  e.g. 1000000 for the 1M-order memory check
//   bench_order_sync --mode process|in-process ...   one mode only (e.g. under perf)
//   bench_order_sync --batch N ...         N records per call of the send (default 100, the
//                                          send shape's own default); each record is still one
//                                          request to NetSuite, a call's requests crossing
//                                          from a connector process together (ABI 1.3).
//                                          --batch 1 is the worst case for process isolation:
//                                          every record then crosses on its own.
//   bench_order_sync --concurrency N ...   N requests in flight (default 8), for the flow and
//                                          for the ceiling's client alike.
// With several rounds each size also prints the median of every column.
#include "bench_machine.hpp"
#include "netsuite_ceiling.hpp"

#include "service_processes.hpp"

#include <junction/core/net/http_client.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace junction::testing;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

rapidjson::Document json(const HttpAnswer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    if (d.HasParseError()) throw std::runtime_error("not JSON (HTTP " + std::to_string(a.status) + "): " + a.body);
    return d;
}

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* kFlow = R"({"name": "order-sync", "trigger": {"type": "manual"}, "shapes": [
  {"id": "orders", "type": "connection", "instance": "shop", "endpoint": "orders.receive", "direction": "receive", "next": "to-sales-order"},
  {"id": "to-sales-order", "type": "map", "next": "open-only", "fields": [
    {"target": "/externalId", "source": "/id", "transforms": [{"op": "to_string"}, {"op": "prefix", "value": "SHOP-"}]},
    {"target": "/cancelled", "source": "/cancelled_at", "transforms": [{"op": "default", "value": false}]},
    {"target": "/memo", "source": "/name"},
    {"target": "/entity/email", "source": "/email"},
    {"target": "/currency", "source": "/currency"},
    {"target": "/total", "source": "/total_price", "transforms": [{"op": "to_number"}]},
    {"target": "/tranDate", "source": "/created_at", "transforms": [{"op": "date", "to": "%Y-%m-%d", "time_zone": "America/New_York"}]},
    {"target": "/item", "source": "/line_items", "each": [
      {"target": "/itemId", "source": "/sku"}, {"target": "/quantity", "source": "/quantity"},
      {"target": "/rate", "source": "/price", "transforms": [{"op": "to_number"}]}]}]},
  {"id": "open-only", "type": "filter", "condition": {"field": "/cancelled", "op": "eq", "value": false}, "next": "upsert"},
  {"id": "upsert", "type": "connection", "instance": "netsuite", "endpoint": "salesorder.upsert", "direction": "send",
   "batch_size": BATCH, "concurrency": IN_FLIGHT}]})";

struct Figures {
    bool isolated = true;
    long orders = 0, upserts = 0;
    double seconds = 0, per_second = 0, cpu_seconds = 0, ceiling_per_second = 0;
    long peak_kib = 0, idle_kib = 0;
    int64_t first_record_ms = 0;
};

// The flow with `batch` records per call of the send (each still one request per record)
// and `in_flight` requests at once.
std::string flow(int batch, int in_flight) {
    std::string text = kFlow;
    text.replace(text.find("BATCH"), 5, std::to_string(batch));
    text.replace(text.find("IN_FLIGHT"), 9, std::to_string(in_flight));
    return text;
}

Figures run(long orders, const fs::path& keys, bool isolated, int batch, int in_flight) {
    SimulatorProcess shop({"--api", "shopify", "--items", std::to_string(orders), "--token", "shpat_bench", "--rate-limit", "off",
                           "--record", "0"});
    SimulatorProcess ns({"--api", "netsuite", "--public-key", (keys / "ns.pub").string(), "--client-id", "bench",
                         "--bench-token", "bench-token", "--record", "0"});
    JunctiondProcess d({"rest.so", "shopify.connector.json", "netsuite.connector.json"},
                       isolated ? std::vector<std::string>{} : std::vector<std::string>{"--isolation", "in-process"});
    auto must = [](const HttpAnswer& a, int status) {
        if (a.status != status) throw std::runtime_error("HTTP " + std::to_string(a.status) + ": " + a.body);
        return a;
    };
    must(d.call("POST", "/v1/instances", R"({"connector":"shopify","name":"shop","config":{"store_url":")" + shop.url() +
                                             R"(","api_key":"shpat_bench","rate_limit_per_second":0}})"), 201);
    must(d.call("POST", "/v1/instances", R"({"connector":"netsuite","name":"netsuite","config":{"account_url":")" + ns.url() +
                                             R"(","client_id":"bench","key_id":"k1","rate_limit_per_second":0,"private_key":)" +
                                             json_text(read_text(keys / "ns.pem")) + "}}"), 201);
    must(d.call("POST", "/v1/flows", flow(batch, in_flight)), 201);

    Figures f;
    f.isolated = isolated;
    f.orders = orders;
    f.idle_kib = d.peak_rss_kib();
    const double cpu0 = d.cpu_seconds();
    const int64_t triggered = wall_ms();
    const std::string id = json(must(d.call("POST", "/v1/flows/order-sync/runs"), 202))["id"].GetString();
    rapidjson::Document r;
    for (;;) {
        r = json(d.call("GET", "/v1/runs/" + id));
        const std::string status = r["status"].GetString();
        if (status != "queued" && status != "running") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (std::string(r["status"].GetString()) != "completed") throw std::runtime_error("the run ended " + std::string(r["status"].GetString()) + ": " + r["error"].GetString());
    const auto stats = json(ns.control("GET", "/_sim/stats"));
    f.upserts = stats["records"].GetInt64();
    // From the first record at NetSuite to the last: the sync itself, polling excluded.
    f.seconds = static_cast<double>(stats["last_write_ms"].GetInt64() - triggered) / 1000.0;
    f.per_second = static_cast<double>(f.upserts) / f.seconds;
    f.first_record_ms = stats["first_write_ms"].GetInt64() - triggered;
    // The connector processes start with the run: all of their CPU time is the run's.
    f.cpu_seconds = d.cpu_seconds() - cpu0 + d.connector_processes_cpu_seconds();
    f.peak_kib = d.peak_rss_kib() + d.connector_processes_peak_rss_kib();
    f.ceiling_per_second = bench::netsuite_ceiling(ns.url(), in_flight, std::min<size_t>(static_cast<size_t>(f.upserts), 50'000));
    return f;
}

void print(const char* label, const Figures& f) {
    std::printf("%-7s %-10s %9ld %9ld %9.2f %11.0f %13.0f %7.0f%% %9lld %10.1f %10.2f %8.1f\n", label,
                f.isolated ? "process" : "in-process", f.orders, f.upserts, f.seconds,
                f.per_second, f.ceiling_per_second, 100.0 * f.per_second / f.ceiling_per_second,
                static_cast<long long>(f.first_record_ms), static_cast<double>(f.peak_kib) / 1024.0, f.cpu_seconds,
                1e6 * f.cpu_seconds / static_cast<double>(std::max(1L, f.upserts)));
    std::fflush(stdout);
}

template <class Get>
auto median(std::vector<Figures> all, Get get) {
    std::sort(all.begin(), all.end(), [&](const Figures& a, const Figures& b) { return get(a) < get(b); });
    return get(all[all.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::pair<long, int>> sizes;  // orders, rounds
    int rounds = 0;
    std::vector<bool> modes{true, false};  // isolated first, then in-process
    int batch = 100;
    int in_flight = 8;
    const auto usage = [] {
        std::fprintf(stderr, "usage: bench_order_sync [--rounds N] [--batch N] [--concurrency N] [--mode process|in-process] "
                             "[ORDERS...]\n");
        return 2;
    };
    for (int i = 1; i < argc; ++i) try {
        const std::string arg = argv[i];
        if (arg == "--rounds" && i + 1 < argc) rounds = std::stoi(argv[++i]);
        else if (arg == "--batch" && i + 1 < argc) batch = std::max(1, std::stoi(argv[++i]));
        else if (arg == "--concurrency" && i + 1 < argc) in_flight = std::clamp(std::stoi(argv[++i]), 1, 64);
        else if (arg == "--mode" && i + 1 < argc) {
            const std::string mode = argv[++i];
            if (mode != "process" && mode != "in-process") {
                std::fprintf(stderr, "bench_order_sync: --mode is process or in-process, not %s\n", mode.c_str());
                return 2;
            }
            modes = {mode == "process"};
        } else if (arg.starts_with("-")) {
            return usage();
        } else {
            sizes.emplace_back(std::stol(arg), 0);
        }
    } catch (const std::logic_error&) {  // not a number
        return usage();
    }
    for (auto& s : sizes) s.second = std::max(1, rounds);
    if (sizes.empty()) sizes = {{20'000, rounds ? rounds : 3}, {200'000, rounds ? rounds : 1}};
    TempDir keys;
    if (run_program({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                     (keys / "ns.pem").string()}).exit_code != 0 ||
        run_program({"/usr/bin/openssl", "pkey", "-in", (keys / "ns.pem").string(), "-pubout", "-out", (keys / "ns.pub").string()})
                .exit_code != 0) {
        std::fprintf(stderr, "bench_order_sync: openssl could not make a key pair\n");
        return 1;
    }
    std::printf("bench_order_sync: Shopify -> map -> filter (not cancelled) -> NetSuite upsert, 1 record per request, "
                "%d in flight, %d record%s per call of the send\n",
                in_flight, batch, batch == 1 ? "" : "s");
    std::printf("machine: %s, %u cores; build %s\n\n", bench::cpu_model().c_str(), std::thread::hardware_concurrency(),
                bench::build_type().c_str());
    std::printf("%-7s %-10s %9s %9s %9s %11s %13s %8s %9s %10s %10s %8s\n", "", "connectors", "orders", "upserts", "seconds",
                "records/s", "ceiling/s", "of ceil", "first ms", "peak MiB", "CPU s", "CPU us/r");
    try {
        for (const auto& [n, times] : sizes) {
            std::vector<Figures> by_mode[2];  // isolated, in-process: alternating, so both see the same noise
            for (int r = 0; r < times; ++r)
                for (bool isolated : modes) {
                    by_mode[isolated ? 0 : 1].push_back(run(n, keys.path(), isolated, batch, in_flight));
                    print(("round " + std::to_string(r + 1)).c_str(), by_mode[isolated ? 0 : 1].back());
                }
            if (times == 1) continue;
            for (const auto& all : by_mode) {
                if (all.empty()) continue;
                Figures m = all.front();
                m.seconds = median(all, [](const Figures& f) { return f.seconds; });
                m.per_second = median(all, [](const Figures& f) { return f.per_second; });
                m.ceiling_per_second = median(all, [](const Figures& f) { return f.ceiling_per_second; });
                m.first_record_ms = median(all, [](const Figures& f) { return f.first_record_ms; });
                m.peak_kib = median(all, [](const Figures& f) { return f.peak_kib; });
                m.cpu_seconds = median(all, [](const Figures& f) { return f.cpu_seconds; });
                print("median", m);
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_order_sync: %s\n", e.what());
        return 1;
    }
    std::printf("\nrecords/s: upserts / (last write at NetSuite - trigger). ceiling: the simulator alone, %d tight clients.\n"
                "first ms: trigger -> first record at NetSuite. peak MiB: the VmHWM of junctiond plus each connector process's.\n"
                "CPU s: user+system of junctiond and its connector processes; CPU us/r: the same per upsert.\n",
                in_flight);
    return 0;
}
