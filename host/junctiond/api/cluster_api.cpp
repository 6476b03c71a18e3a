// GET /v1/cluster: the hosts sharing this daemon's store, from their heartbeats: each one's
// name, version, admin address, state, whether it is live, the runs it holds now and the
// version of each connector it runs.
// POST /v1/daemon/drain: this host takes no more runs and hands the runs in hand back to the
// others at their next page (decision 0024); it goes on serving the API. Stop it afterwards.
#include "admin_api.hpp"
#include "api_json.hpp"

#include <junction/core/cluster/host_heartbeat.hpp>
#include <junction/core/common/ids.hpp>

#include <map>

namespace junction::daemon {

namespace {

constexpr int64_t kMaxDrainGraceSeconds = 3600;

std::string host_json(const core::HostRecord& h, bool live, bool self, const std::vector<std::string>& runs) {
    std::string body = R"({"id":)" + json_string(h.id) + R"(,"name":)" + json_string(h.name) + R"(,"version":)" +
                       json_string(h.version) + R"(,"address":)" + json_string(h.address) + R"(,"state":)" +
                       json_string(h.state) + R"(,"live":)" + (live ? "true" : "false") + R"(,"this_host":)" +
                       (self ? "true" : "false") + R"(,"started_ms":)" + std::to_string(h.started_ms) +
                       R"(,"seen_ms":)" + std::to_string(h.seen_ms) + R"(,"runs":[)";
    for (size_t i = 0; i < runs.size(); ++i) body += (i ? "," : "") + json_string(runs[i]);
    body += R"(],"connectors":{)";
    bool first = true;
    for (const auto& [connector, version] : h.versions) {
        body += (first ? "" : ",") + json_string(connector) + ":" + json_string(version);
        first = false;
    }
    return body + "}}";
}

}  // namespace

void add_cluster_routes(Router& router, ClusterServices& s) {
    router.add("GET", "/v1/cluster", [&s](HttpRequest&) {
        const int64_t now = core::now_ms();
        std::map<std::string, std::vector<std::string>> runs;  // host id -> runs it holds
        core::RunQuery q;
        q.status = "running";
        q.limit = 10'000;
        for (const auto& r : s.store.flows().list_runs(q)) runs[r.host].push_back(r.id);
        std::string body = R"({"this_host":)" + json_string(s.host_id) + R"(,"hosts":[)";
        bool first = true;
        for (const auto& h : s.store.list_hosts()) {
            const bool live = h.state != "stopped" && h.seen_ms >= now - core::kMissedHeartbeats * s.heartbeat.count();
            body += (first ? "" : ",") + host_json(h, live, h.id == s.host_id, runs[h.id]);
            first = false;
        }
        return json_response(200, body + "]}");
    });
    router.add("POST", "/v1/daemon/drain", [&s](HttpRequest& r) {
        int64_t grace = 30;
        if (!r.body.empty()) {
            const auto body = parse_body(r, {"grace_seconds"});
            if (auto g = body.FindMember("grace_seconds"); g != body.MemberEnd()) {
                if (!g->value.IsInt64() || g->value.GetInt64() < 0 || g->value.GetInt64() > kMaxDrainGraceSeconds)
                    throw core::Error(core::Errc::invalid_argument,
                                      "grace_seconds must be a whole number from 0 to " +
                                          std::to_string(kMaxDrainGraceSeconds));
                grace = g->value.GetInt64();
            }
        }
        const size_t handed_back = s.flows.drain(std::chrono::seconds(grace));
        if (s.beat) s.beat();  // the others see "draining" now, not at the next heartbeat
        return json_response(200, R"({"host":)" + json_string(s.host_id) + R"(,"state":"draining","handed_back":)" +
                                      std::to_string(handed_back) + "}");
    });
}

}  // namespace junction::daemon
