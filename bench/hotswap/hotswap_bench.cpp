// bench_hotswap: what a hot swap costs while calls keep coming. For 1, 100 and 10,000
// instances of one connector: calls per second before and during swaps (2 calling
// threads, each call a whoami through the ABI), and the time from "apply" until every
// instance runs the new version (load, canary test, new plugin objects for the running
// instances, commit), median of the swaps, measured alone and under that load.
#include "bench_machine.hpp"

#include <junction/core/host_core.hpp>
#include <junction/core/log.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
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

// Moves the connector to the version it does not run now.
SwapReport swap(HostCore& host) {
    const bool on_new = host.updates.status("conformance").state.active_version == "1.1.0";
    return host.updates.apply("conformance", on_new ? "1.0.0" : "1.1.0", "bench");
}

}  // namespace

int main(int, char** argv) {
    configure_log({LogLevel::warn, false});
    std::printf("bench_hotswap: calls during version swaps\nmachine: %s, %u cores\ncommand: %s\n\n",
                bench::cpu_model().c_str(), std::thread::hardware_concurrency(), argv[0]);
    std::printf("%10s %15s %15s %7s %14s %14s %8s\n", "instances", "calls/s before", "calls/s during",
                "swaps", "all moved, ms", "under load, ms", "failed");
    for (size_t count : {size_t{1}, size_t{100}, size_t{10'000}}) {
        const fs::path dir = fs::temp_directory_path() / ("junction-bench-swap-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        {
            HostCore host(dir);
            host.install(BENCH_CONNECTOR_V1, "bench");
            host.install(BENCH_CONNECTOR_V2, "bench");
            for (size_t i = 0; i < count; ++i)
                host.instances.create({"conformance", "i" + std::to_string(i), "",
                                       R"({"label":"l","api_token":"t-)" + std::to_string(i) + R"("})", ""});
            for (size_t i = 0; i < std::min<size_t>(count, 256); ++i)
                host.runtime.acquire("i" + std::to_string(i));  // the running set

            constexpr auto kWindow = std::chrono::seconds(2);
            double before = 0;
            {
                Callers callers(host, count, 2);
                std::this_thread::sleep_for(kWindow);
                before = callers.calls / std::chrono::duration<double>(kWindow).count();
            }
            std::vector<double> millis;
            double during = 0;
            long failed = 0;
            {
                Callers callers(host, count, 2);
                const auto t0 = Clock::now();
                for (int s = 0; Clock::now() - t0 < kWindow || s < 4; ++s) {
                    const SwapReport r = swap(host);
                    if (r.switched) millis.push_back(r.millis);
                }
                during = callers.calls / std::chrono::duration<double>(Clock::now() - t0).count();
                callers.stop = true;
                failed = callers.failures;
            }
            // The same swaps with no calls competing for the 2 cores.
            std::vector<double> idle;
            for (int s = 0; s < 6; ++s) {
                const SwapReport r = swap(host);
                if (r.switched) idle.push_back(r.millis);
            }
            auto median = [](std::vector<double> v) {
                std::sort(v.begin(), v.end());
                return v.empty() ? 0.0 : v[v.size() / 2];
            };
            std::printf("%10zu %15.0f %15.0f %7zu %14.2f %14.2f %8ld\n", count, before, during, millis.size(),
                        median(idle), median(millis), failed);
        }
        fs::remove_all(dir);
    }
    return 0;
}
