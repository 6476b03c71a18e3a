// /v1/connectors: list, show (manifest, versions with how each runs and who signed them,
// update status), update policy, isolation, apply an update, roll back,
// release a quarantine, history, uninstall (refused while instances use it).
#include "admin_api.hpp"
#include "api_json.hpp"

namespace junction::daemon {

using core::Errc;
using core::Error;

namespace {

// How one installed version runs: the isolation of its loaded copy (null while none is
// loaded) and its quarantine, with the reason.
std::string run_state_json(AdminServices& s, const core::PackageInfo& p) {
    const auto loaded = s.registry.loaded(p.name, p.version);
    const std::string why = s.registry.quarantine_reason(p);
    return R"(,"loaded":)" + std::string(loaded ? "true" : "false") + R"(,"isolation":)" +
           (loaded ? json_string(core::isolation_name(loaded->isolation())) : "null") + R"(,"quarantined":)" +
           (why.empty() ? "false" : "true") + R"(,"quarantine_reason":)" + json_string(why);
}

// The trusted key that signed it when it was installed; null when it was installed unsigned.
std::string signer_json(const core::PackageSigner& signer) {
    if (!signer.is_signed()) return "null";
    return R"({"key_id":)" + json_string(signer.key_id) + R"(,"key_file":)" + json_string(signer.key_file) + "}";
}

}  // namespace

std::string connector_summary_json(AdminServices& s, const core::PackageInfo& p, bool active) {
    const core::Manifest& m = *p.manifest;
    std::string ops;
    for (const auto& op : m.operations)
        ops += (ops.empty() ? "" : ",") + std::string(R"({"name":)") + json_string(op.name) +
               R"(,"direction":")" + core::direction_name(op.direction) + R"(","entity":)" +
               json_string(op.entity) + "}";
    return R"({"name":)" + json_string(m.name) + R"(,"version":)" + json_string(m.version) +
           R"(,"active":)" + (active ? "true" : "false") + R"(,"display_name":)" +
           json_string(m.display_name) + R"(,"description":)" + json_string(m.description) +
           R"(,"abi":")" + std::to_string(p.abi.major) + "." + std::to_string(p.abi.minor) +
           R"(","sha256":")" + p.sha256 + R"(","signed_by":)" + signer_json(p.signed_by) + run_state_json(s, p) +
           R"(,"operations":[)" + ops + "]}";
}

namespace {

std::string history_json(const std::vector<core::HistoryEntry>& items) {
    std::string out = R"({"items":[)";
    for (size_t i = 0; i < items.size(); ++i) {
        const auto& h = items[i];
        out += (i ? "," : "") + std::string(R"({"seq":)") + std::to_string(h.seq) +
               R"(,"action":)" + json_string(h.action) + R"(,"from_version":)" +
               json_string(h.from_version) + R"(,"to_version":)" + json_string(h.to_version) +
               R"(,"actor":)" + json_string(h.actor) + R"(,"at_ms":)" + std::to_string(h.at_ms) +
               R"(,"outcome":)" + json_string(h.outcome) + R"(,"detail":)" + json_string(h.detail) + "}";
    }
    return out + "]}";
}

}  // namespace

// 200 with the report when the switch happened (once the other hosts followed it, or the
// wait ended), 409 with the same report when refused.
HttpResponse swap_response(AdminServices& s, core::SwapReport r) {
    if (!r.switched) return error_response(409, "update_refused", r.reason, {r.to_json()});
    if (s.await_hosts) s.await_hosts(r);
    return json_response(200, r.to_json());
}

std::string active_connector_version(AdminServices& s, const std::string& name) {
    try {
        return s.updates.status(name).state.active_version;
    } catch (const Error&) {
        return "";
    }
}

void add_connector_routes(Router& router, AdminServices& s) {
    router.add("GET", "/v1/connectors", [&s](HttpRequest&) {
        std::string body = R"({"items":[)";
        bool first = true;
        for (const auto& p : s.registry.list()) {
            body += (first ? "" : ",") + connector_summary_json(s, p, active_connector_version(s, p.name) == p.version);
            first = false;
        }
        return json_response(200, body + "]}");
    });

    router.add("GET", "/v1/connectors/{name}", [&s](HttpRequest& r) {
        const std::string& name = r.params["name"];
        const core::ConnectorStatus status = s.updates.status(name);
        std::string versions, manifest = "null";
        for (const auto& p : s.registry.list()) {
            if (p.name != name) continue;
            const bool active = p.version == status.state.active_version;
            versions += (versions.empty() ? "" : ",") + connector_summary_json(s, p, active);
            if (active) manifest = p.manifest->json;
        }
        // Where new loads of it run: the API's choice, else the config file's.
        const std::string isolation = core::isolation_name(s.registry.isolation_for(name));
        return json_response(200, R"({"name":)" + json_string(name) + R"(,"isolation":)" + json_string(isolation) +
                                      R"(,"isolation_source":)" +
                                      (status.state.isolation.empty() ? R"("config")" : R"("api")") +
                                      R"(,"status":)" + status.to_json() + R"(,"manifest":)" + manifest +
                                      R"(,"versions":[)" + versions + "]}");
    });

    router.add("PUT", "/v1/connectors/{name}/policy", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"policy"});
        s.updates.set_policy(r.params["name"], optional_string(body, "policy").value_or(""), "admin");
        return json_response(200, s.updates.status(r.params["name"]).to_json());
    });

    router.add("PUT", "/v1/connectors/{name}/isolation", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"isolation"});
        if (!body.HasMember("isolation"))
            throw Error(Errc::invalid_argument,
                        "field 'isolation' is required: \"process\", \"in-process\", or null for the config file's");
        const core::IsolationChange change =
            s.updates.set_isolation(r.params["name"], optional_string(body, "isolation").value_or(""), "admin");
        if (!change.swap.reason.empty()) return swap_response(s, change.swap);  // refused: 409, nothing changed
        return json_response(200, change.to_json());
    });

    router.add("POST", "/v1/connectors/{name}/apply", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"version"});
        return swap_response(s, s.updates.apply(r.params["name"], optional_string(body, "version").value_or(""), "admin"));
    });

    router.add("POST", "/v1/connectors/{name}/rollback", [&s](HttpRequest& r) {
        return swap_response(s, s.updates.rollback(r.params["name"], "admin"));
    });

    router.add("POST", "/v1/connectors/{name}/release", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"version"});
        const auto version = optional_string(body, "version").value_or("");
        return json_response(200, s.updates.release(r.params["name"], version, "admin").to_json());
    });

    router.add("GET", "/v1/connectors/{name}/history", [&s](HttpRequest& r) {
        return json_response(200, history_json(s.updates.history(r.params["name"])));
    });

    // On a shared store the package is withdrawn first, so no host (this one's background
    // sync included) installs it again; then, when this host has it, it is uninstalled here.
    // Withdrawn only: a package this host refused.
    const auto uninstall = [&s](const std::string& name, const std::string& version) {
        s.instances.check_uninstall_allowed(name, version);
        const size_t withdrawn = s.updates.withdraw_shared(name, version, "admin");
        if (withdrawn > 0 && !s.registry.package(name, version)) return HttpResponse{204, "", "application/json", {}};
        try {
            s.registry.uninstall(name, version);
        } catch (...) {  // refused here (an engine others use): shared again as it was
            if (withdrawn > 0) s.updates.reshare(name, version);
            throw;
        }
        s.updates.after_uninstall(name, version, "admin");
        return HttpResponse{204, "", "application/json", {}};
    };
    router.add("DELETE", "/v1/connectors/{name}", [uninstall](HttpRequest& r) { return uninstall(r.params["name"], ""); });
    router.add("DELETE", "/v1/connectors/{name}/versions/{version}",
               [uninstall](HttpRequest& r) { return uninstall(r.params["name"], r.params["version"]); });
}

}  // namespace junction::daemon
