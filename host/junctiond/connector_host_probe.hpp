// What the connector processes of this daemon can be confined by, found once at the start by
// running `junction-connector-host --probe`, so `junction daemon status` can tell an operator
// what a connector cannot do on this machine, and what it still can.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace junction::daemon {

struct ConnectorHostProbe {
    std::filesystem::path program;
    std::string error;  // why the probe gave no answer; empty when it did
    bool no_new_privs = false;
    bool seccomp = false;
    int landlock_abi = 0;  // 0: no Landlock
};

// Runs `program --probe`; never throws: a program that is missing, fails, or does not
// answer within `deadline` (it is killed) leaves `error` saying so.
ConnectorHostProbe probe_connector_host(const std::filesystem::path& program, std::chrono::milliseconds deadline);

// junction-connector-host as connector processes run it: `configured`, or the one beside
// this program.
std::filesystem::path connector_host_program(const std::filesystem::path& configured);

// The probe in an operator's words: what a connector process is kept from (confined) and
// what it is not, given whether confinement is on (connector-confine).
struct ConfinementWords {
    std::vector<std::string> confined, not_confined;
};
ConfinementWords describe_confinement(const ConnectorHostProbe& probe, bool confine);

}  // namespace junction::daemon
