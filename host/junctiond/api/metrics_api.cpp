// GET /metrics: the daemon's state in the Prometheus text format (version 0.0.4), read
// when scraped: connectors and versions (where each loaded one runs, which are quarantined),
// connector processes, instances, flow runs by status, records per flow, outbound HTTP per
// instance, hot swaps. Like every route but the health checks it
// needs the admin token (Prometheus: `authorization: {credentials_file: ...}`).
#include "admin_api.hpp"

#include <junction/core/common/error.hpp>

#include <set>

namespace junction::daemon {

namespace {

class PrometheusText {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;
    void sample(std::string_view name, Labels labels, uint64_t value) {
        out_ += name;
        if (labels.size() > 0) {
            out_ += '{';
            bool first = true;
            for (const auto& [key, text] : labels) {
                if (!first) out_ += ',';
                first = false;
                out_ += key;
                out_ += "=\"";
                escape(text);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
        out_ += std::to_string(value);
        out_ += '\n';
    }

    std::string take() { return std::move(out_); }

private:
    // Label values escape backslash, double quote and newline.
    void escape(std::string_view text) {
        for (char c : text) {
            if (c == '\\') out_ += "\\\\";
            else if (c == '"') out_ += "\\\"";
            else if (c == '\n') out_ += "\\n";
            else out_ += c;
        }
    }

    std::string out_;
};

void connectors(PrometheusText& m, AdminServices& s) {
    m.family("junction_connector_info", "gauge",
             "Installed connector versions (1 each); active=\"true\" marks the version unpinned "
             "instances run on.");
    std::set<std::string> names;
    for (const auto& p : s.registry.list()) {
        names.insert(p.name);
        const auto active = s.active.get(p.name);
        const std::string abi = std::to_string(p.abi.major) + "." + std::to_string(p.abi.minor);
        const bool is_active = active && active->version() == p.version;
        m.sample("junction_connector_info",
                 {{"connector", p.name}, {"version", p.version}, {"abi", abi},
                  {"active", is_active ? "true" : "false"}},
                 1);
    }
    m.family("junction_connector_version_info", "gauge",
             "Loaded connector versions (1 each) and where each runs: isolation=\"process\" (a connector "
             "process of its own) or \"in-process\" (inside junctiond).");
    for (const auto& p : s.registry.list())
        if (const auto loaded = s.registry.loaded(p.name, p.version))
            m.sample("junction_connector_version_info",
                     {{"connector", p.name}, {"version", p.version}, {"isolation", core::isolation_name(loaded->isolation())}},
                     1);
    m.family("junction_connector_quarantined", "gauge",
             "Installed connector versions that are quarantined (1 each): calls fail at once until "
             "`junction connectors release`.");
    for (const auto& p : s.registry.list())
        if (!s.registry.quarantine_reason(p).empty())
            m.sample("junction_connector_quarantined", {{"connector", p.name}, {"version", p.version}}, 1);
    m.family("junction_instances", "gauge", "Configured instances per connector and the version they run on.");
    for (const auto& name : names) {
        try {
            for (const auto& [version, n] : s.updates.status(name).instances_by_version)
                m.sample("junction_instances", {{"connector", name}, {"version", version}}, n);
        } catch (const core::Error&) {
            // installed but never activated (no connector state yet): no instances either
        }
    }
    m.family("junction_live_instances", "gauge", "Instances with a plugin object loaded right now.");
    m.sample("junction_live_instances", {}, s.runtime.live_count());
    m.family("junction_connector_swaps_total", "counter",
             "Version changes (updates, rollbacks, isolation changes) since the daemon started, by outcome.");
    for (const auto& row : s.updates.swap_counts().snapshot()) {
        m.sample("junction_connector_swaps_total", {{"connector", row.key}, {"result", "switched"}}, row.first);
        m.sample("junction_connector_swaps_total", {{"connector", row.key}, {"result", "refused"}}, row.second);
    }
}

void connector_processes(PrometheusText& m, const core::ConnectorProcessCounters& c) {
    auto counter = [&m](const char* name, const char* help, const std::atomic<uint64_t>& value) {
        m.family(name, "counter", help);
        m.sample(name, {}, value.load(std::memory_order_relaxed));
    };
    counter("junction_connector_process_starts_total", "Connector processes started since the daemon started.",
            c.starts);
    counter("junction_connector_process_crashes_total",
            "Connector processes that ended without being asked to (a crash, a signal).", c.crashes);
    counter("junction_connector_process_limit_kills_total",
            "Connector processes junctiond killed for a limit (a call's deadline, an ignored cancel).", c.limit_kills);
    counter("junction_connector_quarantines_total",
            "Connector versions quarantined because their process kept ending (connector-crash-limit).",
            c.quarantines);
    m.family("junction_connector_processes_running", "gauge", "Connector processes running now.");
    m.sample("junction_connector_processes_running", {}, c.running.load(std::memory_order_relaxed));
}

void instance_http(PrometheusText& m, AdminServices& s) {
    const auto rows = s.runtime.http_counters().snapshot();
    m.family("junction_instance_http_requests_total", "counter",
             "Outbound HTTP requests made by an instance since the daemon started.");
    for (const auto& row : rows) m.sample("junction_instance_http_requests_total", {{"instance", row.key}}, row.first);
    m.family("junction_instance_http_errors_total", "counter",
             "Outbound HTTP requests that failed or were answered 4xx/5xx.");
    for (const auto& row : rows) m.sample("junction_instance_http_errors_total", {{"instance", row.key}}, row.second);
}

void flows(PrometheusText& m, AdminServices& s) {
    m.family("junction_flow_runs", "gauge", "Runs kept in the store per flow and status.");
    for (const auto& [flow, by_status] : s.flows.count_runs())
        for (const auto& [status, n] : by_status)
            m.sample("junction_flow_runs", {{"flow", flow}, {"status", status}}, static_cast<uint64_t>(n));
    // Every flow gets its series, at zero until records move.
    std::map<std::string, std::pair<uint64_t, uint64_t>> traffic;
    for (const auto& f : s.flows.list()) traffic[f.record.name];
    for (const auto& row : s.flows.traffic().snapshot()) traffic[row.key] = {row.first, row.second};
    m.family("junction_flow_records_received_total", "counter",
             "Records that entered a flow (from a source or a trigger's payload) since the daemon started.");
    for (const auto& [flow, t] : traffic) m.sample("junction_flow_records_received_total", {{"flow", flow}}, t.first);
    m.family("junction_flow_records_delivered_total", "counter",
             "Records a flow's send shapes delivered since the daemon started.");
    for (const auto& [flow, t] : traffic) m.sample("junction_flow_records_delivered_total", {{"flow", flow}}, t.second);
}

}  // namespace

void add_metrics_route(Router& router, AdminServices& services) {
    router.add("GET", "/metrics", [&services](HttpRequest&) {
        PrometheusText m;
        connectors(m, services);
        connector_processes(m, services.connector_processes);
        instance_http(m, services);
        flows(m, services);
        HttpResponse r;
        r.body = m.take();
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return r;
    });
}

}  // namespace junction::daemon
