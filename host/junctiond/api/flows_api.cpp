// /v1/flows and /v1/runs: save (create or next version), list, show, delete, enable,
// start runs; list, inspect, cancel and retry runs, read their logs and failed records.
// /hooks/{flow}/{secret}: a flow's webhook trigger (no admin token: the secret is the key).
#include "admin_api.hpp"
#include "api_json.hpp"

namespace junction::daemon {

using core::Errc;
using core::Error;

namespace {

// {"items":[...]} with each element written by `json` (its to_json() by default).
template <class T, class ToJson>
std::string items(const std::vector<T>& list, ToJson json) {
    std::string body = R"({"items":[)";
    for (size_t i = 0; i < list.size(); ++i) body += (i ? "," : "") + json(list[i]);
    return body + "]}";
}

template <class T>
std::string items(const std::vector<T>& list) {
    return items(list, [](const T& item) { return item.to_json(); });
}

std::string saved_json(const core::SavedFlow& saved) {
    std::string body = saved.flow.to_json();
    if (!saved.webhook_token.empty()) {
        body.pop_back();
        body += R"(,"webhook_url_path":)" + json_string("/hooks/" + saved.flow.record.id + "/" + saved.webhook_token) +
                R"(,"webhook_note":"the secret in this path is shown once; rotate it to get a new one"})";
    }
    return body;
}

}  // namespace

void add_flow_routes(Router& router, AdminServices& s) {
    router.add("GET", "/v1/flows", [&s](HttpRequest& r) {
        const size_t limit = limit_param(r);
        auto flows = s.flows.list(query_or(r, "after"), limit + 1);  // one more: is there a next page?
        std::string next;
        if (flows.size() > limit) {
            flows.pop_back();
            next = flows.back().record.name;
        }
        std::string body = items(flows);
        body.pop_back();
        return json_response(200, body + R"(,"next_after":)" + json_string(next) + "}");
    });

    router.add("POST", "/v1/flows", [&s](HttpRequest& r) {
        const auto saved = s.flows.save(r.body);
        return json_response(saved.flow.record.version == 1 ? 201 : 200, saved_json(saved));
    });

    router.add("GET", "/v1/flows/{name}", [&s](HttpRequest& r) {
        return json_response(200, s.flows.show(r.params["name"]).to_json());
    });

    router.add("DELETE", "/v1/flows/{name}", [&s](HttpRequest& r) {
        s.flows.remove(r.params["name"]);
        return HttpResponse{204, "", "application/json", {}};
    });

    router.add("POST", "/v1/flows/{name}/enable", [&s](HttpRequest& r) {
        return json_response(200, s.flows.set_enabled(r.params["name"], true).to_json());
    });
    router.add("POST", "/v1/flows/{name}/disable", [&s](HttpRequest& r) {
        return json_response(200, s.flows.set_enabled(r.params["name"], false).to_json());
    });

    router.add("POST", "/v1/flows/{name}/webhook/rotate", [&s](HttpRequest& r) {
        const auto flow = s.flows.show(r.params["name"]);
        const std::string token = s.flows.rotate_webhook(flow.record.id);
        return json_response(200, R"({"webhook_url_path":)" + json_string("/hooks/" + flow.record.id + "/" + token) + "}");
    });

    router.add("POST", "/v1/flows/{name}/runs", [&s](HttpRequest& r) {
        std::string payload;
        if (!r.body.empty()) payload = member_json(parse_body(r, {"payload"}), "payload", "");
        return json_response(202, s.flows.start_run(r.params["name"], "manual", payload).to_json());
    });

    router.add("GET", "/v1/runs", [&s](HttpRequest& r) {
        core::RunQuery q;
        q.flow_id = query_or(r, "flow");
        q.status = query_or(r, "status");
        q.before_ms = number_param(r, "before", 0, 0, INT64_MAX);
        q.limit = static_cast<size_t>(number_param(r, "limit", 50, 1, 1000));
        return json_response(200, items(s.flows.runs(q)));
    });

    router.add("GET", "/v1/runs/{id}", [&s](HttpRequest& r) {
        return json_response(200, s.flows.run(r.params["id"]).to_json());
    });
    router.add("POST", "/v1/runs/{id}/cancel", [&s](HttpRequest& r) {
        return json_response(202, s.flows.cancel(r.params["id"]).to_json());
    });
    router.add("POST", "/v1/runs/{id}/retry", [&s](HttpRequest& r) {
        // ?from=start reads everything again; the default resumes from the last checkpoint.
        const std::string from = query_or(r, "from");
        if (!from.empty() && from != "start" && from != "checkpoint")
            throw core::Error(core::Errc::invalid_argument, "from must be start or checkpoint, not '" + from + "'");
        return json_response(202, s.flows.retry(r.params["id"], from == "start").to_json());
    });

    router.add("GET", "/v1/runs/{id}/log", [&s](HttpRequest& r) {
        const auto lines = s.flows.run_log(r.params["id"], number_param(r, "after", 0, 0, INT64_MAX),
                                           static_cast<size_t>(number_param(r, "limit", 500, 1, 10'000)));
        return json_response(200, items(lines, [](const core::RunLogLine& l) {
            return R"({"seq":)" + std::to_string(l.seq) + R"(,"at_ms":)" + std::to_string(l.at_ms) +
                   R"(,"level":)" + json_string(l.level) + R"(,"shape":)" + json_string(l.shape) +
                   R"(,"message":)" + json_string(l.message) + "}";
        }));
    });

    router.add("GET", "/v1/runs/{id}/failures", [&s](HttpRequest& r) {
        const auto failed = s.flows.failed_records(r.params["id"], number_param(r, "after", 0, 0, INT64_MAX),
                                                   static_cast<size_t>(number_param(r, "limit", 100, 1, 10'000)));
        return json_response(200, items(failed, [](const core::FailedRecord& f) {
            return R"({"seq":)" + std::to_string(f.seq) + R"(,"shape":)" + json_string(f.shape) +
                   R"(,"reason":)" + json_string(f.reason) + R"(,"record":)" + f.record_json + "}";
        }));
    });

    router.add("POST", "/hooks/{flow}/{token}", [&s](HttpRequest& r) {
        try {
            const auto run = s.flows.webhook(r.params["flow"], r.params["token"], r.body);
            return json_response(202, R"({"run":)" + json_string(run.record.id) + "}");
        } catch (const core::RateLimited& e) {  // 429, and when to come back
            HttpResponse refused = error_response(429, "rate_limited", e.message());
            refused.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
            return refused;
        }
    }, true);
}

}  // namespace junction::daemon
