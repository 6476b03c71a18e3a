// GET /v1/daemon: the daemon itself. An operator who started it with --safe (issue 13) sees
// here that runs are not resumed, schedules do not fire and the plugin folder is not read;
// and (issue 14) where connectors run by default and what confines a connector process on
// this kernel, as junction-connector-host --probe found at the start; and which store it
// keeps its state in (issue 17).
#include "admin_api.hpp"
#include "api_json.hpp"

namespace junction::daemon {

namespace {

std::string string_array(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + json_string(i);
    return "[" + out + "]";
}

std::string connector_host_json(const DaemonStatus& s) {
    const ConnectorHostProbe& p = s.connector_host;
    const ConfinementWords words = describe_confinement(p, s.confine);
    std::string body = R"({"program":)" + json_string(p.program.string()) + R"(,"probe":)" +
                       (p.error.empty() ? R"("ok")" : R"("failed","probe_error":)" + json_string(p.error));
    if (p.error.empty())
        body += R"(,"no_new_privs":)" + std::string(p.no_new_privs ? "true" : "false") + R"(,"seccomp":)" +
                (p.seccomp ? "true" : "false") + R"(,"landlock_abi":)" + std::to_string(p.landlock_abi);
    return body + R"(,"confine":)" + (s.confine ? "true" : "false") + R"(,"confined":)" +
           string_array(words.confined) + R"(,"not_confined":)" + string_array(words.not_confined) + "}";
}

}  // namespace

void add_daemon_route(Router& router, DaemonStatus status) {
    router.add("GET", "/v1/daemon", [status](HttpRequest&) {
        std::string body = R"({"version":")" JUNCTION_VERSION R"(","safe_mode":)";
        body += status.safe_mode ? "true" : "false";
        if (status.safe_mode)
            body += R"(,"safe_mode_detail":"no interrupted run is resumed, no schedule fires, the plugin folder )"
                    R"(is not scanned; restart junctiond without --safe to leave safe mode")";
        body += R"(,"store":)" + json_string(status.store) + R"(,"isolation":)" + json_string(core::isolation_name(status.isolation)) + R"(,"connector_host":)" +
                connector_host_json(status);
        return json_response(200, body + "}");
    });
}

}  // namespace junction::daemon
