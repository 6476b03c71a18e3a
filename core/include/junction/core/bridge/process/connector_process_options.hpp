// The limits and the supervision of connector processes (docs/decisions/0015): settings
// with a per-connector override, read by junctiond (daemon_options.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace junction::core {

// How long each kind of call may take. Past it the call is cancelled (is_cancelled turns 1);
// a call still running `grace` later has its connector process killed.
struct CallDeadlines {
    std::chrono::milliseconds open{30'000};  // loading the library and describe / definition_open
    std::chrono::milliseconds create{30'000};
    std::chrono::milliseconds test_connection{60'000};
    std::chrono::milliseconds invoke{900'000};
    std::chrono::milliseconds migrate{30'000};
    std::chrono::milliseconds grace{5'000};
};

// What /metrics counts of connector processes, shared by every version.
struct ConnectorProcessCounters {
    std::atomic<uint64_t> starts{0};
    std::atomic<uint64_t> crashes{0};         // ended without being asked to
    std::atomic<uint64_t> limit_kills{0};     // killed for a deadline or the memory limit
    std::atomic<uint64_t> quarantines{0};
    std::atomic<uint64_t> running{0};
};

struct ConnectorProcessOptions {
    // junction-connector-host; empty: the one beside the running program.
    std::filesystem::path program;
    // The process's own folder (its working directory, where it may write).
    std::filesystem::path work_dir;
    // Further folders it may read and write (a file connector's data: connector-paths).
    std::vector<std::filesystem::path> paths;
    uint64_t memory_limit_mb = 1024;   // address space (RLIMIT_AS)
    uint32_t max_open_files = 256;     // RLIMIT_NOFILE
    bool confine = true;               // no_new_privs, seccomp, Landlock where the kernel has them
    CallDeadlines deadlines;
    // The largest message a connector process may send (a page, an HTTP request): larger
    // ends the process as broken.
    size_t max_message_bytes = 80u << 20;
    // Restarts after an unexpected end wait from backoff_min, doubling to backoff_max. After
    // crash_limit ends within crash_window the version is quarantined.
    std::chrono::milliseconds backoff_min{200};
    std::chrono::milliseconds backoff_max{30'000};
    uint32_t crash_limit = 5;
    std::chrono::seconds crash_window{600};
    // Told once when the version is quarantined, with the reason (the registry keeps it).
    std::function<void(const std::string& reason)> on_quarantine;
    // Why the version is quarantined already (a previous run decided it); empty: it is not.
    std::string quarantined;
    std::shared_ptr<ConnectorProcessCounters> counters;
    // Set when junctiond stops and its grace is over: every call still running is cancelled
    // (and its process killed `grace` later), so a hanging connector never holds the stop.
    std::shared_ptr<const std::atomic<bool>> stopping;
    // For log lines: the connector this is ("shopify@2.1.0" or the dropped file's name).
    std::string label;
};

}  // namespace junction::core
