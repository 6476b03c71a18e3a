// Retention: the settings a flow document overrides and the pruner that applies them (what
// the store's pruning deletes is in store_conformance_flows_test), and the webhook token bucket.
#include <doctest/doctest.h>

#include "flow_records.hpp"
#include "test_paths.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/flows/retention.hpp>
#include <junction/core/flows/run_pruner.hpp>
#include <junction/core/flows/webhook_rate_limit.hpp>
#include <junction/core/store/store.hpp>

using namespace junction::core;
using namespace junction::testing;

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
