// bench_instances: 10,000 instances of one connector in a fresh state directory: time to
// create, list, look up and test-connect them, and the host's memory per instance.
#include "bench_machine.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/host_core.hpp>
#include <junction/core/common/log.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace junction::core;
using Clock = std::chrono::steady_clock;

namespace {



double us_since(Clock::time_point t0, size_t n) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
    configure_log({LogLevel::warn, false});
    const size_t count = argc > 1 ? std::stoul(argv[1]) : 10'000;
    const fs::path plugin = BENCH_CONNECTOR;
    const fs::path dir = fs::temp_directory_path() / ("junction-bench-instances-" + std::to_string(::getpid()));

    std::printf("bench_instances: %zu instances of one connector\nmachine: %s, %u cores\ncommand: %s\n\n",
                count, bench::cpu_model().c_str(), std::thread::hardware_concurrency(), argv[0]);
    fs::create_directories(dir);
    {
        HostCore host(dir);
        host.install(plugin, "bench");
        InstanceService& service = host.instances;
        InstanceRuntime& runtime = host.runtime;
        auto name = [](size_t i) { return "store-" + std::to_string(100000 + i); };

        const long rss0 = bench::rss_kib();
        auto t0 = Clock::now();
        for (size_t i = 0; i < count; ++i)
            service.create({"conformance", name(i), "",
                            R"({"label":"region-)" + std::to_string(i % 3) + R"(","api_token":"tok-)" +
                                std::to_string(i) + R"("})",
                            ""});
        const double create_us = us_since(t0, count);
        const long rss_created = bench::rss_kib();

        t0 = Clock::now();
        size_t listed = 0, pages = 0;
        InstanceQuery q;
        q.limit = 100;
        for (;;) {
            auto page = service.list(q);
            listed += page.items.size();
            ++pages;
            if (page.next_after.empty()) break;
            q.after_name = page.next_after;
        }
        const double list_page_us = us_since(t0, pages);

        t0 = Clock::now();
        for (size_t i = 0; i < count; ++i) service.show(name((i * 7919) % count));
        const double lookup_us = us_since(t0, count);

        t0 = Clock::now();
        size_t ok = 0;
        for (size_t i = 0; i < count; ++i) ok += service.test(name(i)).status == "ok";
        const double test_us = us_since(t0, count);
        const long rss_tested = bench::rss_kib();

        std::printf("%-44s %10.1f us\n", "create (validate, seal, insert)", create_us);
        std::printf("%-44s %10.1f us  (%zu pages, %zu listed)\n", "list, one page of 100", list_page_us, pages, listed);
        std::printf("%-44s %10.1f us\n", "look up by name", lookup_us);
        std::printf("%-44s %10.1f us  (%zu ok; live plugin objects kept: %zu)\n",
                    "test-connect (decrypt, create, test, record)", test_us, ok, runtime.live_count());
        std::printf("%-44s %10.2f KiB\n", "host memory per idle instance",
                    static_cast<double>(rss_created - rss0) / static_cast<double>(count));
        std::printf("%-44s %10.2f KiB\n", "host memory per instance after testing all",
                    static_cast<double>(rss_tested - rss0) / static_cast<double>(count));
        std::printf("%-44s %10ld KiB\n", "RSS at the end", rss_tested);
    }
    fs::remove_all(dir);
    return 0;
}
