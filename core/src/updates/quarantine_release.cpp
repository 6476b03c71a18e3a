// `junction connectors release NAME`: a quarantined version (it crashed the daemon, or its
// connector process kept ending) is let through again, on disk and in memory, and the
// connector's active version runs again if the quarantine had kept it from loading.
#include <junction/core/updates/connector_updates.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>
#include <junction/core/common/log.hpp>

namespace junction::core {

std::string ReleaseReport::to_json() const {
    std::string items;
    size_t released = 0;
    for (const auto& v : versions) {
        released += v.reason.empty() ? 0 : 1;
        items += (items.empty() ? "" : ",") + std::string(R"({"version":)") + json_quote(v.version) +
                 R"(,"was_quarantined":)" + (v.reason.empty() ? "false" : "true") + R"(,"reason":)" +
                 json_quote(v.reason) + "}";
    }
    return R"({"connector":)" + json_quote(connector) + R"(,"released":)" + std::to_string(released) +
           R"(,"active_version_loaded":)" + (active_loaded ? "true" : "false") + R"(,"versions":[)" + items + "]}";
}

ReleaseReport ConnectorUpdates::release(std::string_view connector, std::string_view version, const std::string& actor) {
    std::lock_guard lock(gate(connector));
    const std::string name(connector);
    ReleaseReport report;
    report.connector = name;
    report.versions = registry_.release_quarantine(name, version);
    bool released = false;
    for (const auto& v : report.versions) {
        if (v.reason.empty()) continue;
        released = true;
        record(name, "release", v.version, v.version, actor, "done", "quarantine lifted; it was: " + v.reason);
    }
    if (!released || active_.get(name)) return report;
    // Quarantined at the start, the active version never loaded: it runs from now on.
    const auto newest = registry_.package(name);
    try {
        restore_locked(name, newest ? newest->version : "", actor);
        report.active_loaded = active_.get(name) != nullptr;
    } catch (const Error& e) {
        log_warn("updates", name + " released, but its active version still does not load: " + e.message());
    }
    return report;
}

}  // namespace junction::core
