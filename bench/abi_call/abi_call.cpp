// bench_abi_call: what the plugin ABI costs.
//  1. ns per invoke through the ABI (host -> C table -> SDK -> plugin -> emit -> host sink)
//     for a 1-record and a 250-record page, against a direct C++ virtual call doing the
//     same work (parse the request, build the page, hand it to the same sink); in process
//     and isolated (the same library in a connector process, docs/decisions/0015).
//  2. The time to install (copy, hash, fsync, load, negotiate, describe) one plugin, and to
//     load and negotiate an already staged one.
#include "page_work.hpp"

#include "bench_machine.hpp"

#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/registry/package_file.hpp>
#include <junction/core/bridge/host_services.hpp>
#include <junction/core/loading/plugin_library.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace junction::core;
using Clock = std::chrono::steady_clock;

namespace {

// The direct path: the same work behind an ordinary C++ virtual call.
struct PageSource {
    virtual ~PageSource() = default;
    virtual void invoke(std::string_view op, std::string_view request, const PageSink& sink) = 0;
};

struct DirectPages final : PageSource {
    std::string page;
    void invoke(std::string_view op, std::string_view request, const PageSink& sink) override {
        if (op != "page") return;
        rapidjson::Document doc;  // the SDK parses the request into a document too
        doc.Parse(request.data(), request.size());
        const size_t n = doc.IsObject() && doc.HasMember("records") ? doc["records"].GetUint() : 1;
        bench::build_page(n, page);
        sink(page);
    }
};

// Times each path in alternating rounds (so all see the same machine noise) and keeps each
// one's best round: on a shared machine the minimum is the repeatable figure.
std::vector<double> best_ns_per_call(size_t calls, const std::vector<std::function<void()>>& paths) {
    std::vector<double> best(paths.size(), 1e300);
    for (int round = 0; round < 15; ++round)
        for (size_t p = 0; p < paths.size(); ++p) {
            const auto t0 = Clock::now();
            for (size_t i = 0; i < calls; ++i) paths[p]();
            best[p] = std::min(best[p], std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / calls);
        }
    return best;
}

// The floor of any isolated call, measured in the same run: one 16-byte message to another
// process and its answer back over a Unix socket pair (two wakeups, two context switches).
double socket_round_trip_ns() {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 0;
    const pid_t echo = ::fork();
    if (echo == 0) {  // only read and write here: the parent may have threads
        ::close(pair[0]);
        char b[16];
        while (::read(pair[1], b, sizeof b) == static_cast<ssize_t>(sizeof b))
            if (::write(pair[1], b, sizeof b) != static_cast<ssize_t>(sizeof b)) break;
        ::_exit(0);
    }
    ::close(pair[1]);
    char b[16] = {};
    double best = 1e300;
    for (int round = 0; round < 15; ++round) {
        constexpr int kTrips = 20'000;
        const auto t0 = Clock::now();
        for (int i = 0; i < kTrips; ++i)
            if (::write(pair[0], b, sizeof b) != 16 || ::read(pair[0], b, sizeof b) != 16) return 0;
        best = std::min(best, std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / kTrips);
    }
    ::close(pair[0]);
    ::waitpid(echo, nullptr, 0);
    return best;
}

// The same library in a connector process (junction-connector-host beside this program).
LoadOptions isolated(const fs::path& work_dir) {
    LoadOptions o;
    o.isolation = Isolation::process;
    o.process.work_dir = work_dir;
    o.process.label = "bench_pages";
    return o;
}


}  // namespace

int main(int argc, char** argv) {
    configure_log({LogLevel::warn, false});
    const fs::path plugin = argc > 1 ? argv[1] : BENCH_PLUGIN;
    const fs::path scratch = fs::temp_directory_path() / ("junction-bench-" + std::to_string(::getpid()));

    std::printf("bench_abi_call: the cost of the plugin ABI\n");
    std::printf("machine: %s, %u cores\ncommand: %s%s\n\n", bench::cpu_model().c_str(),
                std::thread::hardware_concurrency(), argv[0], argc > 1 ? (" " + std::string(argv[1])).c_str() : "");

    size_t sink_bytes = 0;
    const PageSink sink = [&](std::string_view page) { sink_bytes += page.size(); };

    const double round_trip = socket_round_trip_ns();
    {
        ConnectorRegistry registry(scratch / "store");
        auto version = registry.load(registry.install(plugin).name);
        ConnectorRegistry isolated_registry(scratch / "store-isolated", nullptr,
                                            [&](const std::string&) { return isolated(scratch / "work"); });
        auto isolated_version = isolated_registry.load(isolated_registry.install(plugin).name);
        MemoryInstanceState state, isolated_state;
        auto instance = version->create_instance({"bench", "{}", &state, {}, {}});
        auto isolated_instance = isolated_version->create_instance({"bench", "{}", &isolated_state, {}, {}});
        std::unique_ptr<PageSource> direct = std::make_unique<DirectPages>();

        std::printf("best of 15 alternating rounds per figure\n");
        std::printf("%-12s %11s %11s %10s %11s %11s %9s\n", "page", "direct ns", "ABI ns", "ABI adds",
                    "isolated ns", "adds to ABI", "");
        for (size_t records : {size_t{1}, size_t{250}}) {
            const std::string request = R"({"records":)" + std::to_string(records) + "}";
            const size_t calls = records == 1 ? 20'000 : 1'000;
            for (int warm = 0; warm < 1000; ++warm) {  // warm caches and allocators
                instance->invoke("page", request, sink);
                isolated_instance->invoke("page", request, sink);
                direct->invoke("page", request, sink);
            }
            const auto ns = best_ns_per_call(calls, {[&] { direct->invoke("page", request, sink); },
                                                     [&] { instance->invoke("page", request, sink); },
                                                     [&] { isolated_instance->invoke("page", request, sink); }});
            const double d = ns[0], a = ns[1], i = ns[2];
            std::printf("%-12s %11.1f %11.1f %9.2f%% %11.1f %11.1f %8.2f%%\n",
                        (std::to_string(records) + " record(s)").c_str(), d, a, 100.0 * (a - d) / d, i, i - a,
                        100.0 * (i - a) / a);
            std::printf("%-12s %58s %.2fx\n", "", "isolated adds, in socket round trips:", (i - a) / round_trip);
        }
        std::printf("ceiling: one round trip over a Unix socket to another process: %.1f ns (best of 15)\n",
                    round_trip);
    }

    // Loading: a fresh store each time, so every install copies, hashes and loads anew.
    std::vector<double> install_ms, load_ms;
    for (int i = 0; i < 20; ++i) {
        const fs::path store = scratch / ("load-" + std::to_string(i));
        const auto t0 = Clock::now();
        ConnectorRegistry registry(store);
        registry.install(plugin);
        const auto t1 = Clock::now();
        install_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        registry.uninstall("bench_pages");
        fs::copy_file(plugin, store / "again.so");
        const auto t2 = Clock::now();
        auto lib = PluginLibrary::load(store / "again.so", host_api_table());  // ELF checks, dlopen, negotiate
        const auto t3 = Clock::now();
        load_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
    }
    std::sort(install_ms.begin(), install_ms.end());
    std::sort(load_ms.begin(), load_ms.end());
    std::printf("\n%-52s %8.2f ms (median of 20)\n",
                "install (copy+sha256+fsync, load, negotiate, describe)", install_ms[10]);
    std::printf("%-52s %8.2f ms (median of 20)\n", "load + negotiate a staged library",
                load_ms[10]);
    std::printf("(sink saw %zu bytes)\n", sink_bytes);
    fs::remove_all(scratch);
    return 0;
}
