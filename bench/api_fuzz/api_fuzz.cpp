// bench_api_fuzz: a black-box fuzz run of the admin API. Starts a real junctiond (with the
// jsonl connector), notes its RSS, then for --seconds sends, from --clients concurrent
// keep-alive clients, requests to every route of host/junctiond/api/openapi.json: valid
// bodies, mutated ones and hostile ones up to the body limit (deep nesting, long strings,
// many keys, invalid UTF-8, huge numbers). Every answer body must be empty or valid UTF-8
// JSON (/metrics: valid UTF-8 text). Prints requests, statuses, invalid answers and the
// daemon's RSS at start, peak and end (after two idle seconds), and fails (exit 1) when an
// answer was invalid, the daemon died, or RSS at the end is over --max-rss-ratio (2) times
// RSS at start.
//
// --max-depth N caps the nesting of the bodies it makes (default: none, up to the body limit).
// --kinds picks the inputs (default vmhrpq, see fuzz_inputs.hpp), for bisecting what grows
// the daemon; --hold S keeps the daemon up S seconds after the report, for inspection.
//
//   bench_api_fuzz [--seconds 600] [--clients 8] [--seed N] [--max-rss-ratio 2] [--max-depth N]
#include "bench_machine.hpp"
#include "fuzz_inputs.hpp"

#include "service_processes.hpp"

#include <junction/core/net/http_client.hpp>

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include <signal.h>

using namespace junction::testing;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
    double seconds = 600;
    int clients = 8;
    uint64_t seed = 1;
    double max_rss_ratio = 2.0;
    size_t max_depth = 0;
    std::string kinds = "vmhrpq";
    double hold = 0;
};

struct Tally {
    std::mutex mutex;
    std::map<int, long> statuses;  // 0: no answer
    long requests = 0, invalid = 0, body_bytes_sent = 0;
    long invalid_utf8 = 0;  // of the invalid ones, those that are not UTF-8 (the rest: not JSON)
    std::map<std::string, std::string> examples;  // the first invalid answer of each route
    std::map<std::string, long> invalid_by_route;
    std::atomic<bool> daemon_gone{false};
    std::vector<std::string> in_flight;  // per client: the request it sent last
};

// The daemon exited (a zombie or reaped): the run stops there.
bool gone(pid_t pid) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z';
}

long status_kib(pid_t pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
    return 0;
}

// Where a JSON answer stops being valid UTF-8 JSON, std::string::npos when it is valid.
size_t invalid_json_at(const std::string& body) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.c_str(), body.size());
    return d.HasParseError() ? d.GetErrorOffset() : std::string::npos;
}

// What is printable of an answer, for the report.
std::string excerpt(const std::string& text) {
    std::string out;
    for (unsigned char c : text.substr(0, 200)) {
        if (c >= 0x20 && c < 0x7F) out += static_cast<char>(c);
        else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    return out;
}

void client(int index, const Settings& s, const JunctiondProcess& d, const std::string& token,
            const std::vector<fuzz::RouteTemplate>& routes, const std::string& data_dir, Clock::time_point end,
            Tally& tally) {
    fuzz::InputMaker maker(routes, 1u << 20, data_dir, s.seed * 1000 + static_cast<uint64_t>(index), s.max_depth,
                           s.kinds);
    junction::core::HttpClient http;
    while (Clock::now() < end && !tally.daemon_gone) {
        const fuzz::Request r = maker.next();
        std::vector<std::pair<std::string, std::string>> headers;
        if (r.authorized) headers.emplace_back("Authorization", "Bearer " + token);
        if (!r.body.empty()) headers.emplace_back("Content-Type", "application/json");
        {
            std::lock_guard lock(tally.mutex);
            tally.in_flight[static_cast<size_t>(index)] = r.method + " " + excerpt(r.target) + " with a " +
                                                           std::to_string(r.body.size()) +
                                                           " byte body starting " + excerpt(r.body.substr(0, 60));
        }
        junction::core::HttpClient::Result result;
        std::string error;
        const bool answered = http.send(r.method, d.url() + r.target, headers, r.body, result, error);
        const bool text_route = r.route == "GET /metrics";
        size_t bad_at = std::string::npos;
        bool bad_utf8 = false;
        if (answered && !result.body.empty()) {
            bad_at = fuzz::invalid_utf8_at(result.body);
            bad_utf8 = bad_at != std::string::npos;
            if (!bad_utf8 && !text_route) bad_at = invalid_json_at(result.body);
        }
        const bool valid = bad_at == std::string::npos;
        if (!answered && gone(d.pid())) tally.daemon_gone = true;
        std::lock_guard lock(tally.mutex);
        ++tally.requests;
        tally.body_bytes_sent += static_cast<long>(r.body.size());
        ++tally.statuses[answered ? result.status : 0];
        if (!valid) {
            ++tally.invalid;
            tally.invalid_utf8 += bad_utf8 ? 1 : 0;
            ++tally.invalid_by_route[r.route];
            if (!tally.examples.count(r.route))
                tally.examples[r.route] = r.method + " " + excerpt(r.target) + " (" + std::to_string(r.body.size()) +
                                          " byte body) -> " + std::to_string(result.status) + ", invalid at byte " +
                                          std::to_string(bad_at) + ": " +
                                          excerpt(result.body.substr(bad_at > 80 ? bad_at - 80 : 0, 160));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    const char* usage = "usage: bench_api_fuzz [--seconds S] [--clients N] [--seed N] [--max-rss-ratio R] [--max-depth N] [--kinds vmhrpq] [--hold S]\n";
    if (argc % 2 == 0) {  // every option takes a value: a lone one (--help) gets the usage
        std::fputs(usage, stderr);
        return 2;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--seconds")) s.seconds = std::stod(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--clients")) s.clients = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seed")) s.seed = std::stoull(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--max-rss-ratio")) s.max_rss_ratio = std::stod(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--max-depth")) s.max_depth = std::stoul(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--kinds")) s.kinds = argv[i + 1];
        else if (!std::strcmp(argv[i], "--hold")) s.hold = std::stod(argv[i + 1]);
        else {
            std::fputs(usage, stderr);
            return 2;
        }
    }
    const auto routes = fuzz::routes_of(read_text(JUNCTION_OPENAPI_FILE));
    if (routes.empty()) {
        std::fprintf(stderr, "no routes in %s\n", JUNCTION_OPENAPI_FILE);
        return 2;
    }
    TempDir data;
    JunctiondProcess d({"jsonl.so"});
    std::string token = read_text(d.state_dir() / "admin.token");
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const long rss_start = status_kib(d.pid(), "VmRSS:");

    Tally tally;
    tally.in_flight.resize(static_cast<size_t>(s.clients));
    const auto started = Clock::now();
    const auto end = started + std::chrono::milliseconds(static_cast<long>(s.seconds * 1000));
    std::vector<std::thread> threads;
    for (int i = 0; i < s.clients; ++i)
        threads.emplace_back(client, i, std::cref(s), std::cref(d), std::cref(token), std::cref(routes),
                             data.path().string(), end, std::ref(tally));
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();

    std::this_thread::sleep_for(std::chrono::seconds(2));  // idle: the daemon trims within a second
    bool alive = false;
    try {
        alive = http_call("GET", d.url() + "/healthz").status == 200;
    } catch (const std::exception&) {
    }
    if (!alive) {
        std::printf("requests in flight when the daemon stopped answering:\n");
        for (const auto& r : tally.in_flight) std::printf("  %s\n", r.c_str());
        const std::string log = read_text(d.log_file());
        std::printf("junctiond's log ends with:\n%s\n", log.substr(log.size() > 4000 ? log.size() - 4000 : 0).c_str());
    }
    const long rss_end = status_kib(d.pid(), "VmRSS:");
    const long rss_peak = status_kib(d.pid(), "VmHWM:");
    const double ratio = rss_start > 0 ? static_cast<double>(rss_end) / static_cast<double>(rss_start) : 0;

    std::printf("bench_api_fuzz: %zu routes, %d clients, %.0f s, seed %llu, max depth %s; %s\n", routes.size(),
                s.clients, elapsed, static_cast<unsigned long long>(s.seed),
                s.max_depth ? std::to_string(s.max_depth).c_str() : "none", bench::cpu_model().c_str());
    std::printf("requests      %ld (%.0f/s), %.1f MiB of bodies sent\n", tally.requests, tally.requests / elapsed,
                static_cast<double>(tally.body_bytes_sent) / (1 << 20));
    std::printf("statuses     ");
    for (const auto& [status, count] : tally.statuses)
        std::printf(" %s:%ld", status == 0 ? "no-answer" : std::to_string(status).c_str(), count);
    std::printf("\ninvalid answers %ld (not valid UTF-8 JSON): %ld not UTF-8, %ld UTF-8 but not JSON\n", tally.invalid,
                tally.invalid_utf8, tally.invalid - tally.invalid_utf8);
    for (const auto& [route, count] : tally.invalid_by_route)
        std::printf("  %6ld  %s\n          e.g. %s\n", count, route.c_str(), tally.examples[route].c_str());
    std::printf("daemon RSS    start %.1f MiB, peak %.1f MiB, end %.1f MiB (after 2 idle s); end/start %.2f\n",
                rss_start / 1024.0, rss_peak / 1024.0, rss_end / 1024.0, ratio);
    std::printf("daemon        %s\n", alive ? "alive, /healthz 200" : "DEAD or not answering");
    if (s.hold > 0) {  // keep the daemon up for inspection (gdb, /proc/PID/smaps_rollup)
        std::printf("holding the daemon (pid %d, %s, state %s) for %.0f s\n", d.pid(), d.url().c_str(),
                    d.state_dir().c_str(), s.hold);
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(s.hold * 1000)));
    }
    bool ok = true;
    if (tally.invalid > 0) ok = false, std::printf("FAIL: %ld answers were not valid UTF-8 JSON\n", tally.invalid);
    if (!alive) ok = false, std::printf("FAIL: the daemon died or stopped answering\n");
#if defined(JUNCTION_SANITIZER_ADDRESS) || defined(JUNCTION_SANITIZER_THREAD)
    // A sanitizer's quarantine and shadow grow with what was allocated, not what is live.
    std::printf("RSS bound not checked: built with a sanitizer\n");
#else
    if (ratio > s.max_rss_ratio)
        ok = false, std::printf("FAIL: RSS at the end is %.2fx RSS at start (bound %.1fx)\n", ratio, s.max_rss_ratio);
#endif
    return ok ? 0 : 1;
}
