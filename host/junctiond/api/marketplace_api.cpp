// /v1/marketplace: the catalogue (search), the updates it offers for installed
// connectors, and installing NAME[@VERSION] after verifying hash and signature.
#include "admin_api.hpp"
#include "api_json.hpp"

namespace junction::daemon {

using core::Errc;
using core::Error;

namespace {

std::string package_json(const core::CataloguePackage& p) {
    std::string versions;
    for (const auto& v : p.versions)
        versions += (versions.empty() ? "" : ",") + std::string(R"({"version":)") + json_string(v.version) +
                    R"(,"min_abi":)" + json_string(v.min_abi) + R"(,"compatible":)" +
                    (core::abi_compatible(v.min_abi) ? "true" : "false") + R"(,"sha256":)" +
                    json_string(v.sha256) + R"(,"release_notes":)" + json_string(v.release_notes) + "}";
    return R"({"name":)" + json_string(p.name) + R"(,"display_name":)" + json_string(p.display_name) +
           R"(,"description":)" + json_string(p.description) + R"(,"versions":[)" + versions + "]}";
}

}  // namespace

void add_marketplace_routes(Router& router, AdminServices& s) {
    router.add("GET", "/v1/marketplace", [&s](HttpRequest& r) {
        const auto it = r.query.find("search");
        std::string body = R"({"items":[)";
        bool first = true;
        for (const auto& p : s.marketplace.list(it == r.query.end() ? "" : it->second)) {
            body += (first ? "" : ",") + package_json(p);
            first = false;
        }
        return json_response(200, body + "]}");
    });

    router.add("GET", "/v1/marketplace/updates", [&s](HttpRequest&) {
        std::string body = R"({"items":[)";
        bool first = true;
        for (const auto& u : s.marketplace.updates()) {
            body += (first ? "" : ",") + std::string(R"({"name":)") + json_string(u.name) +
                    R"(,"active_version":)" + json_string(u.active_version) + R"(,"available_version":)" +
                    json_string(u.available_version) + R"(,"release_notes":)" + json_string(u.release_notes) + "}";
            first = false;
        }
        return json_response(200, body + "]}");
    });

    router.add("GET", "/v1/marketplace/{name}", [&s](HttpRequest& r) {
        return json_response(200, package_json(s.marketplace.show(r.params["name"])));
    });

    // Installs the newest compatible version when it is not installed yet, then applies it.
    router.add("POST", "/v1/marketplace/apply", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"name"});
        const auto name = optional_string(body, "name");
        if (!name) throw Error(Errc::invalid_argument, "field 'name' is required");
        std::string newest;
        for (const auto& v : s.marketplace.show(*name).versions)
            if (core::abi_compatible(v.min_abi)) newest = v.version;
        if (newest.empty()) throw Error(Errc::not_found, "the marketplace has no compatible version of " + *name);
        if (!s.registry.package(*name, newest)) s.marketplace.install(*name, newest, "marketplace");
        return swap_response(s, s.updates.apply(*name, newest, "admin"));
    });

    router.add("POST", "/v1/marketplace/install", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"name", "version"});
        const auto name = optional_string(body, "name");
        if (!name) throw Error(Errc::invalid_argument, "field 'name' is required");
        const core::PackageInfo p =
            s.marketplace.install(*name, optional_string(body, "version").value_or(""), "marketplace");
        return json_response(201, R"({"name":)" + json_string(p.name) + R"(,"version":)" +
                                      json_string(p.version) + R"(,"sha256":")" + p.sha256 + "\"}");
    });
}

}  // namespace junction::daemon
