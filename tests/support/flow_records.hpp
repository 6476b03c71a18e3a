// Flow and run records for store tests: what a case sets, the rest filled in plainly.
#pragma once

#include <junction/core/store/flow_store.hpp>

#include <string>
#include <utility>
#include <vector>

namespace junction::testing {

// Version 1 of a flow whose id is its name.
inline core::FlowRecord flow(const std::string& id, const std::string& document = R"({"name":"f"})") {
    core::FlowRecord f;
    f.id = id;
    f.name = id;
    f.version = 1;
    f.document_json = document;
    f.created_ms = f.updated_ms = 1;
    return f;
}

// The host the store tests' runs are held by.
inline const std::string kTestHost = "host-test";

// A run of version 1 a webhook started, with a payload, held by kTestHost.
inline core::RunRecord run(const std::string& id, const std::string& flow_id, std::string status,
                           int64_t started_ms, std::string retry_of = {}) {
    core::RunRecord r;
    r.id = id;
    r.flow_id = flow_id;
    r.flow_version = 1;
    r.trigger = "webhook";
    r.status = std::move(status);
    r.started_ms = started_ms;
    r.retry_of = std::move(retry_of);
    r.payload_json = R"({"id":1})";
    r.host = kTestHost;
    return r;
}

// Ends a running run of kTestHost's with `status` (and `error`), keeping its progress.
inline void end_run(core::FlowStore& s, const std::string& id, const std::string& status,
                    const std::string& error = {}) {
    core::RunRecord r = *s.find_run(id);
    r.status = status;
    r.error = error;
    r.ended_ms = r.started_ms + 1;
    s.finish_run(r, core::Checkpoint{r.checkpoint_json, r.counts_json, {}, {}}, {});
}

// The ids of a flow's runs, newest first.
inline std::vector<std::string> run_ids(core::FlowStore& s, const std::string& flow_id) {
    core::RunQuery q;
    q.flow_id = flow_id;
    q.limit = 100;
    std::vector<std::string> ids;
    for (const auto& r : s.list_runs(q)) ids.push_back(r.id);
    return ids;
}

}  // namespace junction::testing
