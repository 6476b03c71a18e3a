// Retention in the store (which runs and keys a pass deletes, and which it never touches),
// the settings a flow document overrides, and the webhook token bucket.
#include <doctest/doctest.h>

#include "test_paths.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/flows/retention.hpp>
#include <junction/core/flows/run_pruner.hpp>
#include <junction/core/flows/webhook_rate_limit.hpp>
#include <junction/core/store/store.hpp>

using namespace junction::core;
using namespace junction::testing;

namespace {

FlowRecord flow(const std::string& id, const std::string& document = R"({"name":"f"})") {
    FlowRecord f;
    f.id = id;
    f.name = id;
    f.version = 1;
    f.document_json = document;
    f.created_ms = f.updated_ms = 1;
    return f;
}

RunRecord run(const std::string& id, const std::string& flow_id, std::string status, int64_t started_ms,
              std::string retry_of = {}) {
    RunRecord r;
    r.id = id;
    r.flow_id = flow_id;
    r.flow_version = 1;
    r.trigger = "webhook";
    r.status = std::move(status);
    r.started_ms = started_ms;
    r.retry_of = std::move(retry_of);
    r.payload_json = R"({"id":1})";
    return r;
}

std::vector<std::string> run_ids(FlowStore& s, const std::string& flow_id) {
    RunQuery q;
    q.flow_id = flow_id;
    q.limit = 100;
    std::vector<std::string> ids;
    for (const auto& r : s.list_runs(q)) ids.push_back(r.id);
    return ids;
}

}  // namespace

TEST_CASE("retention: the count keeps the newest runs, never an open run or the run an open retry resumes") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    auto& flows = store->flows();
    flows.save_flow(flow("f1"));
    flows.save_flow(flow("f2"));
    flows.insert_run(run("r1", "f1", "completed", 1000));
    flows.insert_run(run("r2", "f1", "failed", 2000));
    flows.insert_run(run("r3", "f1", "completed", 3000));
    flows.insert_run(run("r4", "f1", "completed", 4000));
    flows.insert_run(run("r5", "f1", "running", 5000, "r2"));
    flows.insert_run(run("r6", "f1", "queued", 6000));
    flows.insert_run(run("other", "f2", "completed", 1000));
    flows.append_run_log("r1", {{0, 1000, "info", "", "started"}});
    Checkpoint failed{"{}", "{}", {}, {{0, "send", "refused", R"({"id":1})"}}};
    flows.commit_checkpoint("r3", failed);

    // Keep 2: r6 and r5 are the newest; r4, r3, r1 go, two per batch; r2 stays (r5 retries it).
    CHECK(flows.prune_runs("f1", 0, 2, 2) == 2);
    CHECK(flows.prune_runs("f1", 0, 2, 2) == 1);
    CHECK(flows.prune_runs("f1", 0, 2, 2) == 0);
    CHECK(run_ids(flows, "f1") == std::vector<std::string>{"r6", "r5", "r2"});
    CHECK(flows.run_log("r1", 0, 10).empty());  // the log and failed records went with their run
    CHECK(flows.failed_records("r3", 0, 10).empty());
    CHECK(run_ids(flows, "f2") == std::vector<std::string>{"other"});  // another flow's runs are its own

    // Once the retry is over, the run it retried is an old run like any other.
    flows.set_run_status("r5", "completed", "");
    flows.set_run_status("r6", "completed", "");
    CHECK(flows.prune_runs("f1", 0, 2, 10) == 1);
    CHECK(run_ids(flows, "f1") == std::vector<std::string>{"r6", "r5"});
    CHECK(store->integrity_check() == "ok");
}

TEST_CASE("retention: the age prunes runs that started before it; 0 means no limit") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    auto& flows = store->flows();
    flows.save_flow(flow("f1"));
    flows.insert_run(run("old", "f1", "completed", 1000));
    flows.insert_run(run("old-running", "f1", "running", 1500));
    flows.insert_run(run("new", "f1", "failed", 5000));
    CHECK(flows.prune_runs("f1", 0, 0, 10) == 0);  // no limit at all
    CHECK(flows.prune_runs("f1", 2000, 0, 10) == 1);
    CHECK(run_ids(flows, "f1") == std::vector<std::string>{"new", "old-running"});
}

TEST_CASE("retention: flow-scope de-dupe keys expire by when they were made final") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    auto& flows = store->flows();
    flows.save_flow(flow("f1"));
    flows.save_flow(flow("f2"));
    flows.insert_run(run("r1", "f1", "running", 1000));
    flows.insert_run(run("r2", "f2", "running", 1000));
    const int64_t before = now_ms();
    flows.commit_checkpoint("r1", Checkpoint{"{}", "{}", {{"flow:f1:once", "a"}, {"flow:f1:once", "b"}}, {}});
    flows.commit_checkpoint("r2", Checkpoint{"{}", "{}", {{"flow:f2:once", "a"}}, {}});
    CHECK(flows.prune_dedupe_keys("f1", before - 1, 10) == 0);  // made final after that
    CHECK(flows.prune_dedupe_keys("f1", now_ms() + 1, 1) == 1);
    CHECK(flows.prune_dedupe_keys("f1", now_ms() + 1, 1) == 1);
    CHECK_FALSE(flows.dedupe_seen("flow:f1:once", "a"));
    CHECK(flows.dedupe_seen("flow:f2:once", "a"));  // another flow's keys are its own
}

TEST_CASE("retention: a flow's \"retention\" overrides the defaults; the pruner applies each flow's") {
    const RetentionPolicy defaults{30, 1000, 90};
    const auto p = flows::retention_of(R"({"name":"f","retention":{"runs":1}})", defaults);
    CHECK(p.runs == 1);
    CHECK(p.run_days == 30);
    CHECK(p.dedupe_key_days == 90);

    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    auto& flows = store->flows();
    flows.save_flow(flow("keeps-one", R"({"name":"keeps-one","retention":{"runs":1}})"));
    flows.save_flow(flow("keeps-all", R"({"name":"keeps-all"})"));
    for (int i = 0; i < 3; ++i) {
        flows.insert_run(run("a" + std::to_string(i), "keeps-one", "completed", now_ms() - 10 + i));
        flows.insert_run(run("b" + std::to_string(i), "keeps-all", "completed", now_ms() - 10 + i));
    }
    RunPruner pruner(flows, defaults, std::chrono::hours(1));
    CHECK(pruner.prune_once(now_ms()).runs == 2);
    CHECK(run_ids(flows, "keeps-one") == std::vector<std::string>{"a2"});
    CHECK(run_ids(flows, "keeps-all").size() == 3);
    pruner.start();  // and stops at once, mid-wait
    pruner.stop();
}

TEST_CASE("webhook rate limit: a burst, then one call per refill, with the seconds to wait") {
    WebhookRateLimiter limiter;
    const WebhookRateLimit limit{60, 3};  // one a second, three at once
    for (int i = 0; i < 3; ++i) CHECK(limiter.take("f", limit, 1000) == 0);
    CHECK(limiter.take("f", limit, 1000) == 1);
    CHECK(limiter.take("g", limit, 1000) == 0);  // each flow has its own bucket
    CHECK(limiter.take("f", limit, 2000) == 0);  // a second later, one more
    CHECK(limiter.take("f", limit, 2000) == 1);
    CHECK(limiter.take("f", WebhookRateLimit{6, 3}, 2000) == 0);  // a changed limit starts full
    for (int i = 0; i < 2; ++i) limiter.take("f", WebhookRateLimit{6, 3}, 2000);
    CHECK(limiter.take("f", WebhookRateLimit{6, 3}, 2000) == 10);  // one every ten seconds
    CHECK(limiter.take("f", WebhookRateLimit{0, 1}, 2000) == 0);   // 0: no limit

    const auto r = flows::rate_limit_of(R"({"name":"f","trigger":{"type":"webhook","rate_limit":{"burst":5}}})",
                                        WebhookRateLimit{600, 60});
    CHECK(r.per_minute == 600);
    CHECK(r.burst == 5);
}
