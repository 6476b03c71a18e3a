// An update or rollback applied through one host is recorded once in the store, and every
// other host follows it (ClusterSync). The host that applied it answers once every live
// host runs the new version, as their heartbeats say, or names those that did not within
// the wait.
#pragma once

#include <junction/core/store/store.hpp>
#include <junction/core/updates/connector_updates.hpp>

#include <chrono>
#include <string>

namespace junction::core {

// How long an apply through one host waits for the others.
constexpr std::chrono::seconds kSwitchWait{10};

// Fills `report.hosts_switched` (this host first) and `report.hosts_not_switched`: every live
// host (heartbeat younger than kMissedHeartbeats * `heartbeat`, not stopped) that runs
// report.to_version of report.connector, waiting up to `wait` for the others.
void await_other_hosts(Store& store, const std::string& self_id, std::chrono::milliseconds heartbeat,
                       std::chrono::milliseconds wait, SwapReport& report);

}  // namespace junction::core
