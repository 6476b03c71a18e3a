// What a connector process gives up before it loads a connector's code, as far as the kernel
// allows (docs/plugin-abi.md, "Trust model"): resource limits, no core dumps, no new
// privileges, a Landlock ruleset (read-only system folders and the library's folder, its own
// folder writable, no TCP, no signals or abstract sockets beyond itself), and a seccomp
// filter (no new sockets, no exec, no new processes or namespaces, no ptrace, no io_uring).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace junction::connector_host {

struct Limits {
    uint64_t memory_limit_mb = 0;  // 0: none
    uint32_t open_files = 0;       // 0: unchanged
};

struct ConfinementPlan {
    std::filesystem::path library;   // readable (its folder)
    std::filesystem::path work_dir;  // writable; empty: none
    std::vector<std::filesystem::path> paths;  // readable and writable too
};

// What was applied, for the log and `junction daemon status`.
struct ConfinementReport {
    bool no_new_privs = false;
    bool seccomp = false;
    int landlock_abi = 0;  // 0: not available
    std::string notes;     // what could not be applied, and why
};

// Sets the limits and disables core dumps. Throws std::runtime_error when a limit cannot
// be set (the process must not run a connector without it).
void apply_limits(const Limits& limits);

// Applies no_new_privs, Landlock and seccomp, each where the kernel offers it.
ConfinementReport confine(const ConfinementPlan& plan);

// What this kernel offers, without applying anything (for the daemon's status).
ConfinementReport probe_confinement();

// The report as the one JSON object `junction-connector-host --probe` prints:
// {"no_new_privs":true,"seccomp":true,"landlock_abi":3,"notes":""}.
std::string to_json(const ConfinementReport& report);

}  // namespace junction::connector_host
