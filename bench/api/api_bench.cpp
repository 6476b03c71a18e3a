// bench_api: the admin API under load. junctiond (the real daemon, on loopback) holds
// 10,000 instances; 16 clients, each its own keep-alive connection, send the same request
// back to back for a fixed time. The clients are wrk's (Debian's wrk, installed by
// scripts/setup.sh: an event loop on two threads that costs little CPU), or with
// --client curl 16 threads of the host's libcurl client. Prints requests per second,
// p50/p99/max latency and the daemon's CPU use for: the first page of GET /v1/instances
// (100 items, the default), a 1,000-item page, a page from the middle (?after=), and
// GET /healthz as the transport's ceiling. With --with-run the first request is measured
// again while flow runs go in the same daemon, back to back (a JSON-lines file of 100,000
// records through a map into another, the jsonl connector, no HTTP): the issue's "a flow run
// going at the same time", with the run's records/s alone and under the load.
//
//   bench_api [--instances N] [--clients N] [--seconds S] [--client wrk|curl] [--with-run]
#include "bench_machine.hpp"

#include "service_processes.hpp"

#include <junction/core/net/http_client.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace junction::testing;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Settings {
    int instances = 10'000;
    int clients = 16;
    double seconds = 5;
    std::string client = "wrk";
    bool with_run = false;
};

std::string instance_name(int i) {
    char name[32];
    std::snprintf(name, sizeof name, "orders-%05d", i);
    return name;
}

// Adds the instances through the API, 8 requests in flight.
void seed(const JunctiondProcess& d, int count, const std::string& data_file) {
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i; (i = next++) < count;) {
                const HttpAnswer a = d.call("POST", "/v1/instances",
                                            R"({"connector":"jsonl","name":")" + instance_name(i) +
                                                R"(","config":{"path":")" + data_file + R"("}})");
                if (a.status != 201) throw std::runtime_error("seeding failed: " + a.body);
            }
        });
    for (auto& t : threads) t.join();
}

struct Figures {
    double requests_per_second = 0, p50_ms = 0, p99_ms = 0, max_ms = 0, daemon_cpu = 0;
    size_t bytes = 0;
};

Figures load(const JunctiondProcess& d, const std::string& path, const Settings& s) {
    const std::string url = d.url() + path;
    const std::string token = junction::testing::read_text(d.state_dir() / "admin.token");
    const std::string bearer = "Bearer " + token.substr(0, token.find_first_of("\r\n"));
    std::vector<std::vector<double>> latencies(static_cast<size_t>(s.clients));
    std::atomic<bool> go{false}, stop{false};
    std::atomic<size_t> bytes{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < s.clients; ++c)
        threads.emplace_back([&, c] {
            junction::core::HttpClient http;
            junction::core::HttpClient::Result result;
            std::string error;
            // One request to open the connection before the clock starts.
            http.send("GET", url, {{"Authorization", bearer}}, {}, result, error);
            while (!go) std::this_thread::yield();
            auto& mine = latencies[static_cast<size_t>(c)];
            while (!stop) {
                const auto t0 = Clock::now();
                if (!http.send("GET", url, {{"Authorization", bearer}}, {}, result, error) || result.status != 200)
                    throw std::runtime_error("GET " + path + " failed: " + error + " " + std::to_string(result.status));
                mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                bytes += result.body.size();
            }
        });
    const double cpu_before = d.cpu_seconds();
    const auto started = Clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(s.seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    Figures f;
    f.requests_per_second = static_cast<double>(all.size()) / elapsed;
    f.p50_ms = all[all.size() / 2];
    f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    f.max_ms = all.back();
    f.daemon_cpu = (d.cpu_seconds() - cpu_before) / elapsed;
    f.bytes = bytes / std::max<size_t>(1, all.size());
    return f;
}

// wrk's figures: "50%    1.23ms", "Latency   1.0ms  0.5ms  12.3ms ...", "Requests/sec: 123".
double wrk_ms(const std::string& text) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    const std::string unit(end);
    return unit.starts_with("us") ? v / 1000 : unit.starts_with("ms") ? v : unit.starts_with("s") ? v * 1000 : v;
}

Figures load_with_wrk(const JunctiondProcess& d, const std::string& path, const Settings& s) {
    const std::string token = junction::testing::read_text(d.state_dir() / "admin.token");
    const std::string bearer = "Authorization: Bearer " + token.substr(0, token.find_first_of("\r\n"));
    // One request for the size of an answer.
    junction::core::HttpClient http;
    junction::core::HttpClient::Result result;
    std::string error;
    if (!http.send("GET", d.url() + path, {{"Authorization", bearer.substr(15)}}, {}, result, error) ||
        result.status != 200)
        throw std::runtime_error("GET " + path + " failed: " + error);
    const std::string command = "wrk --latency -t 2 -c " + std::to_string(s.clients) + " -d " +
                                std::to_string(static_cast<int>(s.seconds)) + "s -H '" + bearer + "' '" + d.url() +
                                path + "' 2>&1";
    const double cpu_before = d.cpu_seconds();
    const auto started = Clock::now();
    FILE* out = popen(command.c_str(), "r");
    if (!out) throw std::runtime_error("cannot run wrk");
    std::string text;
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
    if (pclose(out) != 0) throw std::runtime_error("wrk failed: " + text);
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    if (text.find("Non-2xx") != std::string::npos || text.find("Socket errors") != std::string::npos)
        throw std::runtime_error("wrk saw failed requests:\n" + text);
    // The percentiles are looked for below "Latency Distribution": above it, a "+/- Stdev"
    // figure such as "72.50%" would be taken for the 50% line.
    const auto after = [&](const std::string& label) {
        const size_t distribution = label.ends_with('%') ? text.find("Latency Distribution") : 0;
        const size_t at = distribution == std::string::npos ? distribution : text.find(label, distribution);
        if (at == std::string::npos) throw std::runtime_error("no '" + label + "' in wrk's output:\n" + text);
        size_t from = text.find_first_not_of(" \t", at + label.size());
        return text.substr(from, text.find_first_of(" \t\n", from) - from);
    };
    Figures f;
    f.requests_per_second = std::stod(after("Requests/sec:"));
    f.p50_ms = wrk_ms(after("50%"));
    f.p99_ms = wrk_ms(after("99%"));
    {  // Latency   avg   stdev   max   +/-
        std::istringstream line(text.substr(text.find("Latency ")));
        std::string label, avg, stdev, max;
        line >> label >> avg >> stdev >> max;
        f.max_ms = wrk_ms(max);
    }
    f.daemon_cpu = (d.cpu_seconds() - cpu_before) / elapsed;
    f.bytes = result.body.size();
    return f;
}

// Flow runs back to back while `busy` is set: records/s of the runs that ended (a run cut
// short at the end counts what it moved).
class BackgroundRuns {
public:
    explicit BackgroundRuns(const JunctiondProcess& d) : d_(d) {}
    ~BackgroundRuns() {
        busy_ = false;
        if (thread_.joinable()) thread_.join();
    }

    // One run alone: records/s.
    double once() {
        const auto t0 = Clock::now();
        const long records = run_one(nullptr);
        return static_cast<double>(records) / std::chrono::duration<double>(Clock::now() - t0).count();
    }

    void start() {
        busy_ = true;
        started_ = Clock::now();
        thread_ = std::thread([this] {
            try {
                while (busy_) records_ += run_one(&busy_);
            } catch (...) {
                failure_ = std::current_exception();
            }
        });
    }
    // Records/s since start().
    double stop() {
        busy_ = false;
        thread_.join();
        if (failure_) std::rethrow_exception(failure_);
        return static_cast<double>(records_) / std::chrono::duration<double>(Clock::now() - started_).count();
    }

private:
    // Starts a run and waits for it (cancels it when `going` turns false); records it wrote.
    long run_one(const std::atomic<bool>* going) {
        const HttpAnswer started = d_.call("POST", "/v1/flows/background/runs");
        if (started.status != 202) throw std::runtime_error("the background run did not start: " + started.body);
        rapidjson::Document r;
        const auto parse = [&](const std::string& body) {
            if (r.Parse(body.c_str()).HasParseError() || !r.IsObject() || !r.HasMember("id") || !r["id"].IsString() ||
                !r.HasMember("status") || !r["status"].IsString())
                throw std::runtime_error("not a run: " + body);
        };
        parse(started.body);
        const std::string id = r["id"].GetString();
        bool cancelled = false;
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (going && !*going && !cancelled) {
                d_.call("POST", "/v1/runs/" + id + "/cancel");
                cancelled = true;
            }
            parse(d_.call("GET", "/v1/runs/" + id).body);
            const std::string status = r["status"].GetString();
            if (status == "queued" || status == "running") continue;
            if (status != "completed" && status != "cancelled")
                throw std::runtime_error("the background run ended " + status + ": " +
                                         (r.HasMember("error") && r["error"].IsString() ? r["error"].GetString() : ""));
            return r["counts"].HasMember("sink") ? r["counts"]["sink"]["out"].GetInt64() : 0;
        }
    }

    const JunctiondProcess& d_;
    std::atomic<bool> busy_{false};
    std::atomic<long> records_{0};
    Clock::time_point started_;
    std::thread thread_;
    std::exception_ptr failure_;  // what ended the thread, rethrown by stop()
};

void add_background_flow(const JunctiondProcess& d, const fs::path& data) {
    {
        std::ofstream f(data / "big.jsonl");
        for (int i = 1; i <= 100'000; ++i)
            f << R"({"id":)" << i << R"(,"email":"customer)" << i << R"(@example.com","total":")" << i % 997 << R"(.50"})" << "\n";
    }
    for (const auto& [name, file] : {std::pair{"bench-source", "big.jsonl"}, std::pair{"bench-sink", "copy.jsonl"}}) {
        const HttpAnswer a = d.call("POST", "/v1/instances", std::string(R"({"connector":"jsonl","name":")") + name +
                                                                 R"(","config":{"path":")" + (data / file).string() +
                                                                 R"(","page_size":250}})");
        if (a.status != 201) throw std::runtime_error("adding " + std::string(name) + " failed: " + a.body);
    }
    const HttpAnswer a = d.call("POST", "/v1/flows", R"({"name": "background", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": "bench-source", "endpoint": "records.receive", "direction": "receive", "next": "map"},
      {"id": "map", "type": "map", "next": "sink", "fields": [
        {"target": "/externalId", "source": "/id", "transforms": [{"op": "to_string"}, {"op": "prefix", "value": "SHOP-"}]},
        {"target": "/email", "source": "/email"}, {"target": "/total", "source": "/total", "transforms": [{"op": "to_number"}]}]},
      {"id": "sink", "type": "connection", "instance": "bench-sink", "endpoint": "records.send", "direction": "send"}]})");
    if (a.status != 201) throw std::runtime_error("saving the background flow failed: " + a.body);
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    for (int i = 1; i < argc; i += 2) {
        if (!std::strcmp(argv[i], "--with-run")) {
            s.with_run = true;
            --i;
            continue;
        }
        const bool has_value = i + 1 < argc;
        if (has_value && !std::strcmp(argv[i], "--instances")) s.instances = std::stoi(argv[i + 1]);
        else if (has_value && !std::strcmp(argv[i], "--clients")) s.clients = std::stoi(argv[i + 1]);
        else if (has_value && !std::strcmp(argv[i], "--seconds")) s.seconds = std::stod(argv[i + 1]);
        else if (has_value && !std::strcmp(argv[i], "--client")) s.client = argv[i + 1];
        else {
            std::fprintf(stderr, "usage: bench_api [--instances N] [--clients N] [--seconds S] [--client wrk|curl] [--with-run]\n");
            return 2;
        }
    }
    try {
        JunctiondProcess d({"jsonl.so"});
        TempDir data;
        write_file(data / "orders.jsonl", "{\"id\":1}\n");
        const auto seed_start = Clock::now();
        seed(d, s.instances, (data / "orders.jsonl").string());
        const double seed_s = std::chrono::duration<double>(Clock::now() - seed_start).count();
        std::printf("bench_api: %s, %u cores; junctiond with %d instances (added through the API in %.1f s, %.0f/s)\n",
                    bench::cpu_model().c_str(), std::thread::hardware_concurrency(), s.instances, seed_s,
                    s.instances / seed_s);
        if (s.client == "wrk" && std::system("command -v wrk >/dev/null 2>&1") != 0) {
            std::printf("(wrk is not installed: bash scripts/setup.sh installs it; using libcurl threads)\n");
            s.client = "curl";
        }
        std::printf("%d clients, keep-alive, %.0f s each, client %s; build %s\n\n", s.clients, s.seconds,
                    s.client == "wrk" ? "wrk (2 threads)" : "libcurl (a thread each)", bench::build_type().c_str());
        std::printf("%-44s %10s %8s %8s %8s %9s %11s\n", "REQUEST", "REQ/S", "P50 ms", "P99 ms", "MAX ms", "BYTES", "DAEMON CPU");
        const std::string middle = instance_name(s.instances / 2);
        for (const std::string& path : {std::string("/v1/instances"), std::string("/v1/instances?limit=1000"),
                                        "/v1/instances?after=" + middle, std::string("/healthz")}) {
            const Figures f = s.client == "wrk" ? load_with_wrk(d, path, s) : load(d, path, s);
            std::printf("GET %-40s %10.0f %8.2f %8.2f %8.2f %9zu %10.0f%%\n", path.c_str(), f.requests_per_second, f.p50_ms,
                        f.p99_ms, f.max_ms, f.bytes, f.daemon_cpu * 100);
        }
        if (s.with_run) {
            add_background_flow(d, data.path());
            BackgroundRuns runs(d);
            const double alone = runs.once();
            runs.start();
            const Figures f = s.client == "wrk" ? load_with_wrk(d, "/v1/instances", s) : load(d, "/v1/instances", s);
            const double loaded = runs.stop();
            std::printf("GET %-40s %10.0f %8.2f %8.2f %8.2f %9zu %10.0f%%\n", "/v1/instances (a flow run going)",
                        f.requests_per_second, f.p50_ms, f.p99_ms, f.max_ms, f.bytes, f.daemon_cpu * 100);
            std::printf("\nthe flow run (100,000 records, jsonl -> map -> jsonl): %.0f records/s alone, %.0f records/s "
                        "while the API was under load\n", alone, loaded);
        }
        std::printf("\njunctiond peak RSS %.1f MiB\n", static_cast<double>(d.peak_rss_kib()) / 1024);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_api: %s\n", e.what());
        return 1;
    }
}
