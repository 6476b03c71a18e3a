// junctiond: the Junction host process. It keeps the connector registry (installing what
// is dropped into its plugin folder, rescanning on SIGHUP), the instances in its store with
// their credentials sealed under the master key, and serves the admin API.
#include "admin_server.hpp"
#include "admin_server_settings.hpp"
#include "admin_token.hpp"
#include "connector_host_probe.hpp"
#include "api/admin_api.hpp"
#include "daemon_options.hpp"
#include "plugin_folder_watch.hpp"
#include "process_limits.hpp"
#include "service_manager.hpp"
#include "settings_reload.hpp"
#include "stop_deadline.hpp"
#include "text_table.hpp"

#include <junction/core/cluster/cluster_sync.hpp>
#include <junction/core/cluster/host_heartbeat.hpp>
#include <junction/core/cluster/switch_acks.hpp>
#include <junction/core/common/error.hpp>
#include <junction/core/host_core.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/marketplace/marketplace.hpp>
#include <junction/core/marketplace/package_trust.hpp>
#include <junction/core/secrets/clear_text.hpp>
#include <junction/core/secrets/environment_secret.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <optional>
#include <stdexcept>

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace junction::core;
using namespace junction::daemon;

namespace {

std::string join_operations(const Manifest& m) {
    std::string out;
    for (const auto& op : m.operations)
        out += (out.empty() ? "" : ", ") + op.name + " (" + direction_name(op.direction) + ")";
    return out;
}

void print_registry(const ConnectorRegistry& registry, const ActiveVersions& active,
                    std::ostream& out) {
    junction::host::TextTable table({"CONNECTOR", "VERSION", "ABI", "OPERATIONS", "SHA256"});
    for (const auto& p : registry.list()) {
        const auto running = active.get(p.name);
        const bool is_active = running && running->version() == p.version;
        table.add_row({p.name, p.version + (is_active ? " *" : ""),
                       std::to_string(p.abi.major) + "." + std::to_string(p.abi.minor),
                       join_operations(*p.manifest), p.sha256.substr(0, 12)});
    }
    table.print(out);
    out << "(* the active version)\n";
}

void install_scanned(const ScanReport& scan, ConnectorUpdates& updates) {
    for (const auto& p : scan.installed) {
        log_info("junctiond", "connector ready: " + p.id());
        updates.on_installed(p, "plugin folder");
    }
    for (const auto& r : scan.refused)
        log_warn("junctiond", "package refused: " + r.file.string() + ": " + r.reason);
}

// --print-routes needs the route table, and the routes need the services: they are built on
// a throwaway directory, removed before exit, so a command that only prints leaves no state
// anywhere (no store or master key in /var/lib/junction; issue 13).
class ThrowawayStateDir {
public:
    ThrowawayStateDir() {
        std::string pattern = (fs::temp_directory_path() / "junctiond-print-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory in " + fs::temp_directory_path().string());
        path_ = pattern;
    }
    ~ThrowawayStateDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// The state directory holds the store, the master key and the admin token: owner only.
std::string machine_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
    return name;
}

void prepare_state_dir(const fs::path& dir) {
    ::umask(077);
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

int run(int argc, char** argv, DaemonOptions options) {
    std::optional<ThrowawayStateDir> scratch;  // destroyed last, after everything using it
    if (options.print_routes) {
        scratch.emplace();
        options.state_dir = scratch->path() / "state";
        options.plugin_dir = scratch->path() / "drop";
    }
    set_json_limits(options.json_limits);  // before anything parses JSON
    prepare_state_dir(options.state_dir);
    fs::create_directories(options.plugin_dir);

    // Block the signals we handle before any thread starts, then wait for them below.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Out of the environment at once: no child inherits them, /proc/<pid>/environ shows neither.
    const std::optional<std::string> next_key = take_environment_secret("JUNCTION_NEW_MASTER_KEY");
    HostCoreOptions core_options;
    core_options.master_key_env = take_environment_secret("JUNCTION_MASTER_KEY").value_or("");
    core_options.store = options.store;
    core_options.http.ca_file = options.ca_file;
    core_options.flows.run_workers = options.run_workers;
    core_options.flows.retention = options.retention;
    core_options.flows.retention_interval = std::chrono::seconds(options.retention_interval_seconds);
    core_options.flows.webhook_rate_limit = options.webhook_rate_limit;
    core_options.connectors = options.connectors;
    // One signature policy for the folder, the API and the packages other hosts installed
    // (decision 0016): checked on the staged copy.
    const PackageTrust trust({options.allow_unsigned_drops, "allow-unsigned-drops", options.marketplace_key,
                              options.trusted_keys});
    // A package another host put in the store: signed by a key this host trusts, unless the
    // operator allowed unsigned ones from the store too (writing to the database is not
    // writing to this host's plugin folder).
    const PackageTrust store_trust({options.allow_unsigned_from_store, "allow-unsigned-from-store",
                                    options.marketplace_key, options.trusted_keys});
    core_options.stored_package_check = [&store_trust](const std::optional<std::string>& signature) {
        return [&store_trust, signature](const std::string& file, const std::string& sha) {
            return store_trust.check(sha, signature, file, "another host installed it unsigned");
        };
    };
    HostCore core(options.state_dir, core_options);
    log_info("junctiond", "store: " + core.store->describe());
    if (options.rotate_key) {
        rotate_master_key(*core.store, core.keys, core.secrets, next_key);
        std::cout << "junctiond: master key rotated"
                  << (core.keys.env_value.empty() ? " (" + core.keys.key_file.string() + ")"
                                                  : "; now set JUNCTION_MASTER_KEY to the new key")
                  << "\n";
        return 0;
    }
    // The master key is open in core.secrets: its text from the environment is not needed again.
    wipe_text(core.keys.env_value);
    wipe_text(core_options.master_key_env);
    core.registry.set_scan_check(
        [&trust](const fs::path& file, const std::string& sha) { return trust.check_file(file, sha); });
    if (options.safe_mode)
        log_warn("junctiond", "safe mode: no interrupted run is resumed, no schedule fires, the plugin folder "
                              "is not scanned or watched; restart without --safe to leave it");
    else
        install_scanned(core.registry.scan(options.plugin_dir), core.updates);
    if (options.print_registry) {
        print_registry(core.registry, core.active, std::cout);
        return 0;
    }

    Marketplace marketplace(options.marketplace, options.marketplace_key, core.registry, core.updates,
                            core_options.http);
    marketplace.also_trust_keys_in(options.trusted_keys);
    AdminServices services{core.registry, core.active,      core.runtime, core.instances,
                           core.updates,  marketplace,      core.flows,   *core.connector_processes,
                           trust,         options.plugin_dir, {}};
    Router router;
    add_health_routes(router);
    add_connector_routes(router, services);
    add_connector_install_routes(router, services);
    add_instance_routes(router, services);
    add_marketplace_routes(router, services);
    add_flow_routes(router, services);
    add_metrics_route(router, services);
    add_openapi_route(router);
    // The heartbeat starts once the API listens (its row names the address); the drain
    // route asks it for a beat through this pointer.
    std::atomic<HostHeartbeat*> heartbeat{nullptr};
    ClusterServices cluster{*core.store, core.flows, core.identity.id(), core_options.flows.lease / 3,
                            [&heartbeat] {
                                if (auto* h = heartbeat.load()) h->beat();
                            }};
    add_cluster_routes(router, cluster);
    DaemonStatus daemon_status{options.safe_mode, options.connectors.defaults.isolation,
                               options.connectors.defaults.process.confine, {}, core.store->describe()};
    daemon_status.connector_host.program = connector_host_program(options.connectors.defaults.process.program);
    if (!options.print_routes) {  // what confines a connector here, for the status (the start goes on if it fails)
        daemon_status.connector_host = probe_connector_host(daemon_status.connector_host.program, std::chrono::seconds(5));
        if (!daemon_status.connector_host.error.empty()) log_warn("junctiond", daemon_status.connector_host.error);
    }
    add_daemon_route(router, daemon_status);
    if (options.print_routes) {
        for (const auto& r : router.routes()) std::cout << r.method << " " << r.pattern << "\n";
        return 0;
    }

    ServerOptions server_options;
    server_options.address = options.listen_address;
    server_options.port = options.listen_port;
    server_options.tls = tls_files(options);
    apply_transport_settings(options, server_options);
    // The check keeps the token's digest; the token itself is wiped at the end of the line.
    const TokenCheck token_check = make_token_check(ClearText(load_or_create_admin_token(options.state_dir)).view());
    server_options.token_check = token_check;  // a larger body limit only with the token
    AdminServer server(server_options, make_dispatch(router, token_check));
    std::unique_ptr<PluginFolderWatch> watch;
    if (options.plugin_watch != "off" && !options.safe_mode) {
        watch = std::make_unique<PluginFolderWatch>(
            options.plugin_dir,
            [&] { install_scanned(core.registry.scan(options.plugin_dir), core.updates); },
            options.plugin_watch == "poll");
    }
    HostHeartbeat membership(*core.store,
                             HostRecord{core.identity.id(), machine_name(), JUNCTION_VERSION,
                                        std::string(server.tls() ? "https://" : "http://") + options.listen_address +
                                            ":" + std::to_string(server.port()),
                                        "running", 0, 0, {}},
                             cluster.heartbeat, [&core] { return core.flows.draining() ? "draining" : "running"; },
                             [&core] { return core.active.versions(); });
    heartbeat = &membership;
    // Several hosts on one store: this one installs what the others installed and follows
    // their version switches; an apply through this one waits for them (decision 0026).
    std::unique_ptr<ClusterSync> cluster_sync;
    if (core.store->shared()) {
        cluster_sync = std::make_unique<ClusterSync>(*core.store, core.registry, core.updates,
                                                     core_options.stored_package_check,
                                                     [&membership] { membership.beat(); }, cluster.heartbeat);
        services.await_hosts = [&core, &cluster, &membership](SwapReport& report) {
            membership.beat();  // this host's row says the new version at once
            await_other_hosts(*core.store, core.identity.id(), cluster.heartbeat, kSwitchWait, report);
        };
    }
    // Resumes runs a previous stop (or crash) interrupted; in safe mode, none.
    core.flows.start(options.safe_mode ? FlowService::StartMode::safe : FlowService::StartMode::normal);
    log_info("junctiond", "admin API listening on " + std::string(server.tls() ? "https://" : "http://") +
                              options.listen_address + ":" +
                              std::to_string(server.port()) + "; plugin folder " +
                              options.plugin_dir.string() + " (SIGHUP reloads the settings and rescans, SIGTERM stops)");
    record_admin_address(options.state_dir, std::string(server.tls() ? "https://" : "http://") +
                                                 options.listen_address + ":" + std::to_string(server.port()));
    notify_ready("serving on " + options.listen_address + ":" + std::to_string(server.port()));

    for (;;) {
        int sig = 0;
        sigwait(&signals, &sig);
        if (sig == SIGHUP) {
            notify_reloading();
            reload_settings(argc, argv, options, server);
            if (options.safe_mode) {
                log_info("junctiond", "SIGHUP: safe mode, the plugin folder is not scanned");
            } else {
                log_info("junctiond", "SIGHUP: rescanning the plugin folder; looking again at " +
                                          std::to_string(core.registry.refused_drops().size()) + " refused file(s)");
                // Refused files are looked at again: a key added, a .sig put beside its library.
                install_scanned(core.registry.scan(options.plugin_dir, ConnectorRegistry::ScanMode::retry_refused),
                                core.updates);
                if (cluster_sync) cluster_sync->retry_refused();  // and those from the store
            }
            notify_ready("serving");
            continue;
        }
        log_info("junctiond", std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
        notify_stopping("stopping: flow runs finish their pages");
        watch.reset();
        // One grace for the whole stop: what still runs in a connector process when it is
        // over is cancelled (and its process killed connector-kill-grace later), so neither
        // a hanging admin call nor a hanging run holds the stop.
        const auto grace = std::chrono::seconds(options.stop_grace_seconds);
        const auto stop_by = std::chrono::steady_clock::now() + grace;
        StopDeadline deadline(stop_by, [&core] { core.cancel_connector_calls(); });
        cluster_sync.reset();  // no switch followed while the host stops (a follow in hand ends within the grace)
        server.stop();
        std::error_code gone;  // a stopped daemon's address is no one's to send the admin token to
        fs::remove(options.state_dir / "admin.url", gone);
        // Runs finish the page in hand (within the grace) and resume at the next start.
        core.flows.stop(std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                   stop_by - std::chrono::steady_clock::now())));
        return 0;
    }
}

}  // namespace

int main(int argc, char** argv) {
    const ProcessLimits limits = apply_process_limits();  // before any thread
    int exit_code = 0;
    auto options = parse_daemon_options(argc, argv, exit_code);
    if (!options) return exit_code;
    if (options->print_version) {
        std::cout << "junctiond " JUNCTION_VERSION "\n";
        return 0;
    }
    configure_log(log_options(*options));
    log_info("junctiond", describe(limits));
    try {
        return run(argc, argv, *options);
    } catch (const Error& e) {
        log_error("junctiond", e.what());
        return 1;
    } catch (const std::exception& e) {
        log_error("junctiond", std::string("fatal: ") + e.what());
        return 1;
    }
}
