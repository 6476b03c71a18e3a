// bench_rest_receive: how fast the REST engine pulls orders from the Shopify simulator over
// loopback (rate limit off), against the simulator's own ceiling measured in the same run
// by a tight client: the host's libcurl client fetching the same pages and following the
// Link header, with no JSON parsing. The engine path is the product's: the registry loads
// rest.so and shopify.connector.json, the instance runtime builds the instance, and every
// page crosses the ABI (parse, select /orders, re-serialize, emit).
#include "bench_machine.hpp"

#include "service_processes.hpp"
#include "test_paths.hpp"

#include <junction/core/host_core.hpp>
#include <junction/core/net/http_client.hpp>
#include <junction/core/common/log.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace junction::core;
using namespace junction::testing;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Figures {
    double seconds = 0;
    size_t bytes = 0;
    size_t records = 0;
};

// The tight client: GET each page, find the next link, count bytes. Records per page are
// known (250, the last page the rest).
Figures ceiling(const std::string& base, const std::string& token, size_t orders) {
    HttpClient http;
    Figures f;
    std::string url = base + "/admin/api/2024-01/orders.json?status=any&limit=250";
    const std::string header_line = "X-Shopify-Access-Token";
    const auto t0 = Clock::now();
    while (!url.empty()) {
        jn_http_header h{{header_line.data(), header_line.size()}, {token.data(), token.size()}};
        jn_http_request req{};
        req.struct_size = sizeof req;
        req.method = {"GET", 3};
        req.url = {url.data(), url.size()};
        req.headers = &h;
        req.header_count = 1;
        struct Out {
            std::string next;
            size_t bytes = 0;
        } out;
        std::string error;
        const jn_status s = http.perform(
            req,
            [](void* user, const jn_http_response* r) {
                auto* o = static_cast<Out*>(user);
                o->bytes = r->body.len;
                for (size_t i = 0; i < r->header_count; ++i) {
                    const std::string_view name(r->headers[i].name.ptr, r->headers[i].name.len);
                    const std::string_view value(r->headers[i].value.ptr, r->headers[i].value.len);
                    if (name != "Link" && name != "link") continue;
                    const size_t rel = value.find("rel=\"next\"");
                    if (rel == std::string_view::npos) continue;
                    const size_t open = value.rfind('<', rel), close = value.rfind('>', rel);
                    o->next = std::string(value.substr(open + 1, close - open - 1));
                }
            },
            &out, nullptr, error);
        if (s != JN_OK) throw std::runtime_error("ceiling client: " + error);
        f.bytes += out.bytes;
        url = out.next;
    }
    f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    f.records = orders;
    return f;
}

// The product's path; the consumer only takes the bytes (what a flow does with them is
// the flow's cost). `count` also counts the records, outside the timed rounds.
Figures through_engine(HostCore& host, size_t expected_records, bool count) {
    Figures f;
    const auto t0 = Clock::now();
    host.runtime.acquire("bench-store")->plugin->invoke("orders.receive", "{}", [&](std::string_view page) {
        f.bytes += page.size();
        if (!count) return;
        for (size_t at = page.find("\"order_number\""); at != std::string_view::npos;
             at = page.find("\"order_number\"", at + 14))
            ++f.records;  // every order has exactly one
    });
    f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!count) f.records = expected_records;
    return f;
}

}  // namespace

int run(int argc, char** argv) {
    configure_log({LogLevel::warn, false});
    const size_t orders = argc > 1 ? std::stoul(argv[1]) : 100'000;
    std::printf("bench_rest_receive: Shopify orders over loopback, %zu orders (rate limit off)\nmachine: %s, %u cores\ncommand: %s\n\n",
                orders, bench::cpu_model().c_str(), std::thread::hardware_concurrency(), argv[0]);

    TempDir dir;
    SimulatorProcess sim({"--api", "shopify", "--items", std::to_string(orders), "--rate-limit", "off", "--record", "0",
                          "--token", "shpat_bench"});
    const std::string url = sim.url();

    fs::create_directories(dir / "state");
    HostCore host(dir / "state");
    host.install(plugin_dir() / "rest.so", "bench");
    host.install(plugin_dir() / "shopify.connector.json", "bench");
    host.instances.create({"shopify", "bench-store", "", R"({"store_url":")" + url + R"(","api_key":"shpat_bench","rate_limit_per_second":0})", ""});

    const Figures check = through_engine(host, orders, true);
    if (check.records != orders) {
        std::fprintf(stderr, "the engine returned %zu records, expected %zu\n", check.records, orders);
        return 1;
    }
    // Interleaved rounds, the median of each: the VM's neighbours come and go.
    std::vector<Figures> ceilings, engines;
    for (int round = 0; round < 9; ++round) {
        ceilings.push_back(ceiling(url, "shpat_bench", orders));
        engines.push_back(through_engine(host, orders, false));
    }
    auto median = [](std::vector<Figures> v) {
        std::sort(v.begin(), v.end(), [](const Figures& a, const Figures& b) { return a.seconds < b.seconds; });
        return v[v.size() / 2];
    };
    const Figures ceiling_median = median(ceilings), engine_median = median(engines);
    auto row = [](const char* what, const Figures& f) {
        std::printf("%-34s %12.0f records/s %9.1f MB/s  (%zu records, %.1f MB, %.3f s)\n", what, f.records / f.seconds,
                    f.bytes / f.seconds / 1e6, f.records, f.bytes / 1e6, f.seconds);
    };
    row("simulator ceiling (tight client)", ceiling_median);
    row("REST engine, orders.receive", engine_median);
    std::printf("\nengine / ceiling: %.0f%% of the records per second (target: at least 70%%)\n",
                100.0 * (engine_median.records / engine_median.seconds) / (ceiling_median.records / ceiling_median.seconds));
    return 0;
}

int main(int argc, char** argv) {
    try {
        return run(argc, argv);  // unwinds on failure, so the simulator is stopped
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_rest_receive: %s\n", e.what());
        return 1;
    }
}
