// bench_hotswap: what a hot swap costs while calls keep coming. For 1, 100 and 10,000
// instances of one connector, in connector processes and in this process: calls per second
// before and during swaps (2 calling threads, each call a whoami through the ABI), and the
// time from "apply" until every instance runs the new version (load, canary test, new
// plugin objects for the running instances, commit), median of the swaps, measured alone
// and under that load.
#include "bench_machine.hpp"

#include <junction/core/host_core.hpp>
#include <junction/core/common/log.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace junction::core;
using Clock = std::chrono::steady_clock;

namespace {


// Calls instances round-robin from `threads` threads until `stop`; returns the count.
struct Callers {
    Callers(HostCore& host, size_t instances, int threads) {
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&host, this, instances, threads, t] {
                for (size_t i = t; !stop; i += threads) {
                    try {
                        host.runtime.acquire("i" + std::to_string(i % instances))
                            ->plugin->invoke("whoami", "{}", [](std::string_view) {});
                        ++calls;
                    } catch (const std::exception&) {
                        ++failures;
                    }
                }
            });
    }
    ~Callers() {
        stop = true;
        for (auto& t : pool) t.join();
    }
    std::atomic<bool> stop{false};
    std::atomic<long> calls{0}, failures{0};
    std::vector<std::thread> pool;
};

// One measuring window: calls per second from 2 calling threads while the connector is
// swapped with `pause` between swaps (no swaps at all without one).
struct Window {
    double calls_per_s = 0;
    long failures = 0;
    std::vector<double> swap_millis;
};

SwapReport swap(HostCore& host);

Window run_window(HostCore& host, size_t instances, std::optional<std::chrono::milliseconds> pause) {
    constexpr auto kLength = std::chrono::seconds(2);
    Window w;
    Callers callers(host, instances, 2);
    const auto t0 = Clock::now();
    if (!pause) std::this_thread::sleep_for(kLength);
    while (pause && Clock::now() - t0 < kLength) {
        const SwapReport r = swap(host);
        if (r.switched) w.swap_millis.push_back(r.millis);
        std::this_thread::sleep_for(*pause);
    }
    w.calls_per_s = callers.calls / std::chrono::duration<double>(Clock::now() - t0).count();
    callers.stop = true;
    w.failures = callers.failures;
    return w;
}

// The window with the median rate; its swap times and failures are all the rounds'.
Window median_window(std::vector<Window> runs) {
    Window all;
    for (const auto& r : runs) {
        all.failures += r.failures;
        all.swap_millis.insert(all.swap_millis.end(), r.swap_millis.begin(), r.swap_millis.end());
    }
    std::sort(runs.begin(), runs.end(), [](const Window& a, const Window& b) { return a.calls_per_s < b.calls_per_s; });
    all.calls_per_s = runs[runs.size() / 2].calls_per_s;
    return all;
}

double dip(const Window& quiet, const Window& busy) {
    return 100.0 * (quiet.calls_per_s - busy.calls_per_s) / quiet.calls_per_s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Moves the connector to the version it does not run now.
SwapReport swap(HostCore& host) {
    const bool on_new = host.updates.status("conformance").state.active_version == "1.1.0";
    return host.updates.apply("conformance", on_new ? "1.0.0" : "1.1.0", "bench");
}

}  // namespace

int main(int argc, char** argv) {
    configure_log({LogLevel::warn, false});
    std::printf("bench_hotswap: calls during version swaps\nmachine: %s, %u cores\ncommand: %s\n\n",
                bench::cpu_model().c_str(), std::thread::hardware_concurrency(), argv[0]);
    std::printf("%-10s %9s %9s %9s %7s %9s %7s %9s %9s %6s\n", "", "", "calls/s", "calls/s", "", "calls/s", "",
                "moved ms", "moved ms", "");
    std::printf("%-10s %9s %9s %9s %7s %9s %7s %9s %9s %6s\n", "connectors", "instances", "no swaps", "1 per", "dip",
                "back to", "dip", "alone", "in load", "failed");
    std::printf("%-10s %9s %9s %9s %7s %9s %7s %9s %9s %6s\n", "", "", "", "250 ms", "", "back", "", "", "", "");
    std::vector<size_t> counts{1, 100, 10'000};
    if (argc > 1) counts = {std::stoul(argv[1])};
    for (size_t count : counts)
    for (const Isolation isolation : {Isolation::process, Isolation::in_process}) {
        const fs::path dir = fs::temp_directory_path() / ("junction-bench-swap-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        {
            HostCoreOptions options;
            options.connectors.defaults.isolation = isolation;
            HostCore host(dir, options);
            host.install(BENCH_CONNECTOR_V1, "bench");
            host.install(BENCH_CONNECTOR_V2, "bench");
            for (size_t i = 0; i < count; ++i)
                host.instances.create({"conformance", "i" + std::to_string(i), "",
                                       R"({"label":"l","api_token":"t-)" + std::to_string(i) + R"("})", ""});
            for (size_t i = 0; i < std::min<size_t>(count, 256); ++i)
                host.runtime.acquire("i" + std::to_string(i));  // the running set

            // Interleaved rounds, median of each kind: the VM's neighbours come and go.
            std::vector<Window> quiet_runs, paced_runs, b2b_runs;
            for (int round = 0; round < 3; ++round) {
                quiet_runs.push_back(run_window(host, count, std::nullopt));
                paced_runs.push_back(run_window(host, count, std::chrono::milliseconds(250)));
                b2b_runs.push_back(run_window(host, count, std::chrono::milliseconds(0)));
            }
            const Window quiet = median_window(quiet_runs), paced = median_window(paced_runs),
                         back_to_back = median_window(b2b_runs);
            std::vector<double> alone;  // the same swaps with no calls competing for the cores
            for (int s = 0; s < 6; ++s) {
                const SwapReport r = swap(host);
                if (r.switched) alone.push_back(r.millis);
            }
            std::vector<double> loaded = paced.swap_millis;
            loaded.insert(loaded.end(), back_to_back.swap_millis.begin(), back_to_back.swap_millis.end());
            std::printf("%-10s %9zu %9.0f %9.0f %6.1f%% %9.0f %6.1f%% %9.2f %9.2f %6ld\n",
                        isolation == Isolation::process ? "process" : "in-process", count, quiet.calls_per_s,
                        paced.calls_per_s, dip(quiet, paced), back_to_back.calls_per_s, dip(quiet, back_to_back),
                        median(alone), median(loaded), paced.failures + back_to_back.failures);
        }
        fs::remove_all(dir);
    }
    return 0;
}
