// The admin API under /v1: the routes, and the dispatch that checks the admin token, finds
// the route and turns every failure into the one error shape.
#pragma once

#include "../connector_host_probe.hpp"
#include "../router.hpp"

#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/flows/flow_service.hpp>
#include <junction/core/instances/instance_service.hpp>
#include <junction/core/marketplace/marketplace.hpp>
#include <junction/core/marketplace/package_trust.hpp>
#include <junction/core/updates/connector_updates.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace junction::daemon {

struct AdminServices {
    core::ConnectorRegistry& registry;
    core::ActiveVersions& active;
    core::InstanceRuntime& runtime;
    core::InstanceService& instances;
    core::ConnectorUpdates& updates;
    core::Marketplace& marketplace;
    core::FlowService& flows;
    const core::ConnectorProcessCounters& connector_processes;
    const core::PackageTrust& trust;          // the signature policy of every package that is not the marketplace's
    const std::filesystem::path& plugin_dir;  // the only place a path given to the API may point into
    // After a version switch through the API: waits for the other hosts sharing the store
    // to run it, and lists them in the report (nothing on a store of one host).
    std::function<void(core::SwapReport&)> await_hosts;
};

// A version switch's answer: 409 when refused; else 200, once the other hosts run it too.
HttpResponse swap_response(AdminServices& services, core::SwapReport report);

void add_health_routes(Router& router);
void add_connector_routes(Router& router, AdminServices& services);
// POST /v1/connectors (a path in the plugin folder) and POST /v1/connectors/upload (the bytes).
void add_connector_install_routes(Router& router, AdminServices& services);
// One installed version as the connector routes show it.
std::string connector_summary_json(AdminServices& services, const core::PackageInfo& package, bool active);
// The version of `name` that runs; "" when none does.
std::string active_connector_version(AdminServices& services, const std::string& name);
void add_instance_routes(Router& router, AdminServices& services);
void add_marketplace_routes(Router& router, AdminServices& services);
void add_flow_routes(Router& router, AdminServices& services);
// GET /metrics: Prometheus text.
void add_metrics_route(Router& router, AdminServices& services);
// GET /v1/openapi.json: api/openapi.json, the published description of every route.
void add_openapi_route(Router& router);

// GET /v1/daemon: what the daemon runs as (its version, whether it is in safe mode, where
// connectors run and what confines them on this kernel).
struct DaemonStatus {
    bool safe_mode = false;
    core::Isolation isolation = core::Isolation::process;  // the default (config file)
    bool confine = true;                                     // connector-confine
    ConnectorHostProbe connector_host;
    std::string store;  // the engine and database, no password (Store::describe)
};
void add_daemon_route(Router& router, DaemonStatus status);

// GET /v1/cluster and POST /v1/daemon/drain (cluster_api.cpp).
struct ClusterServices {
    core::Store& store;
    core::FlowService& flows;
    std::string host_id;
    std::chrono::milliseconds heartbeat;  // how often each host writes its row
    std::function<void()> beat;           // writes this host's row now, once the heartbeat runs
};
void add_cluster_routes(Router& router, ClusterServices& services);

// Authenticates (Authorization: Bearer <token>, except public routes), routes, and maps
// exceptions to error responses. Never echoes a request body.
// Whether an Authorization header carries the admin token. It keeps the token's SHA-256
// only (a core of the daemon holds no token) and compares in constant time.
using TokenCheck = std::function<bool(const std::string& authorization)>;
TokenCheck make_token_check(std::string_view token);
std::function<HttpResponse(HttpRequest&)> make_dispatch(const Router& router, TokenCheck token_check);

}  // namespace junction::daemon
