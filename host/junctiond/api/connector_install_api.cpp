// Installing a package through the admin API, under the same signature policy as the plugin
// folder (decision 0016): the bytes uploaded with their signature (POST
// /v1/connectors/upload), or a path, which must lie in the plugin folder (POST
// /v1/connectors). The daemon reads no other file on an API caller's word.
#include "admin_api.hpp"
#include "api_json.hpp"

#include <junction/core/registry/package_file.hpp>

#include <optional>

namespace junction::daemon {

using core::Errc;
using core::Error;
namespace fs = std::filesystem;

namespace {

HttpResponse installed(AdminServices& s, const core::PackageInfo& p) {
    s.updates.on_installed(p, "admin");
    return json_response(201, connector_summary_json(s, p, active_connector_version(s, p.name) == p.version));
}

// The file a path names once links are resolved, when that is inside the plugin folder.
std::optional<fs::path> inside_plugin_folder(const fs::path& folder, const std::string& file) {
    std::error_code ec;
    const fs::path root = fs::weakly_canonical(folder, ec);
    if (ec) return std::nullopt;
    const fs::path given = fs::path(file).is_absolute() ? fs::path(file) : folder / file;
    const fs::path target = fs::weakly_canonical(given, ec);
    if (ec) return std::nullopt;
    const fs::path relative = target.lexically_relative(root);
    if (relative.empty() || relative == "." || *relative.begin() == "..") return std::nullopt;
    return target;
}

// A name for an uploaded package: it says its kind, and nothing else is taken from it.
void check_upload_name(const std::string& name) {
    const bool kind = name.ends_with(".so") || core::is_definition_package(name);
    if (!kind || name.size() > 255 || name.find('/') != std::string::npos || name.starts_with("."))
        throw Error(Errc::invalid_argument,
                    "query parameter 'file' must name the package: NAME.so (a library) or NAME.connector.json "
                    "(a definition), without a folder");
}

}  // namespace

void add_connector_install_routes(Router& router, AdminServices& s) {
    router.add("POST", "/v1/connectors", [&s](HttpRequest& r) {
        const auto body = parse_body(r, {"file"});
        const auto file = optional_string(body, "file");
        if (!file)
            throw Error(Errc::invalid_argument,
                        "field 'file' (a package in the plugin folder) is required; to install a file from "
                        "elsewhere, upload it: junction connectors install FILE [--sig FILE.sig]");
        const auto package = inside_plugin_folder(s.plugin_dir, *file);
        if (!package)
            return error_response(403, "outside_plugin_folder",
                                  "the daemon installs a path only from its plugin folder (" + s.plugin_dir.string() +
                                      "), where the folder's signature policy applies; upload the package "
                                      "instead (junction connectors install FILE [--sig FILE.sig], POST "
                                      "/v1/connectors/upload), or put it and its .sig in the plugin folder");
        const auto& trust = s.trust;
        return installed(s, s.registry.install(*package, [&](const std::string&, const std::string& sha) {
            return trust.check_file(*package, sha);
        }));
    });

    router.add("POST", "/v1/connectors/upload", [&s](HttpRequest& r) {
        const auto name = r.query.find("file");
        if (name == r.query.end())
            throw Error(Errc::invalid_argument,
                        "query parameter 'file' (NAME.so or NAME.connector.json) is required; the body is the package");
        check_upload_name(name->second);
        if (r.body.empty()) throw Error(Errc::invalid_argument, "the body is empty; it must be the package's bytes");
        std::optional<std::string> signature;
        if (auto sig = r.query.find("signature"); sig != r.query.end() && !sig->second.empty()) signature = sig->second;
        return installed(s, s.registry.install_bytes(r.body, name->second, s.trust.check_upload(signature)));
    });
}

}  // namespace junction::daemon
