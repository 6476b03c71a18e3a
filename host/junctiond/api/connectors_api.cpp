// /v1/connectors: list, show (manifest and installed versions), install from a file the
// daemon can read, uninstall (refused while instances use it).
#include "admin_api.hpp"
#include "api_json.hpp"

namespace junction::daemon {

using core::Errc;
using core::Error;

namespace {

std::string summary_json(const core::ConnectorVersion& v) {
    const core::Manifest& m = v.manifest();
    std::string ops;
    for (const auto& op : m.operations)
        ops += (ops.empty() ? "" : ",") + std::string(R"({"name":)") + json_string(op.name) +
               R"(,"direction":")" + core::direction_name(op.direction) + R"(","entity":)" +
               json_string(op.entity) + "}";
    return R"({"name":)" + json_string(m.name) + R"(,"version":)" + json_string(m.version) +
           R"(,"display_name":)" + json_string(m.display_name) + R"(,"description":)" +
           json_string(m.description) + R"(,"abi":")" + std::to_string(v.plugin_abi().major) +
           "." + std::to_string(v.plugin_abi().minor) + R"(","sha256":")" + v.sha256() +
           R"(","operations":[)" + ops + "]}";
}

}  // namespace

void add_connector_routes(Router& router, AdminServices& s) {
    router.add("GET", "/v1/connectors", [&s](HttpRequest&) {
        std::string body = R"({"items":[)";
        bool first = true;
        for (const auto& v : s.registry.list()) {
            body += (first ? "" : ",") + summary_json(*v);
            first = false;
        }
        return json_response(200, body + "]}");
    });

    router.add("GET", "/v1/connectors/{name}", [&s](HttpRequest& r) {
        const std::string& name = r.params["name"];
        auto newest = s.registry.find(name);
        if (!newest)
            throw Error(Errc::not_found, "no installed connector '" + name +
                                             "'; GET /v1/connectors lists the installed ones");
        std::string versions;
        for (const auto& v : s.registry.list())
            if (v->name() == name) versions += (versions.empty() ? "" : ",") + summary_json(*v);
        return json_response(200, R"({"name":)" + json_string(name) + R"(,"current":)" +
                                      json_string(newest->version()) + R"(,"manifest":)" +
                                      newest->manifest().json + R"(,"versions":[)" + versions + "]}");
    });

    router.add("POST", "/v1/connectors", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"file"});
        const auto file = optional_string(body, "file");
        if (!file) throw Error(Errc::invalid_argument, "field 'file' (a path the daemon can read) is required");
        return json_response(201, summary_json(*s.registry.install(*file)));
    });

    router.add("DELETE", "/v1/connectors/{name}", [&s](HttpRequest& r) {
        s.instances.check_uninstall_allowed(r.params["name"]);
        s.registry.uninstall(r.params["name"]);
        return HttpResponse{204, "", "application/json", {}};
    });

    router.add("DELETE", "/v1/connectors/{name}/versions/{version}", [&s](HttpRequest& r) {
        s.instances.check_uninstall_allowed(r.params["name"], r.params["version"]);
        s.registry.uninstall(r.params["name"], r.params["version"]);
        return HttpResponse{204, "", "application/json", {}};
    });
}

}  // namespace junction::daemon
