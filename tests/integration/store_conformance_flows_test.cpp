// The flow store (flows, runs, checkpoints, de-dupe keys, retention) through its interface,
// on SQLite and on PostgreSQL alike (issue 17).
#include <doctest/doctest.h>

#include "flow_records.hpp"
#include "store_kinds.hpp"
#include "postgres_server.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/store/store.hpp>

#include <set>
#include <thread>

using namespace junction::core;
using namespace junction::testing;

TEST_CASE("retention: the count keeps the newest runs, never an open run or the run an open retry resumes") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        flows.save_flow(flow("f2"));
        flows.insert_run(run("r1", "f1", "completed", 1000));
        flows.insert_run(run("r2", "f1", "failed", 2000));
        flows.insert_run(run("r3", "f1", "running", 3000));
        flows.insert_run(run("r4", "f1", "completed", 4000));
        flows.insert_run(run("r5", "f1", "running", 5000, "r2"));
        flows.insert_run(run("r6", "f1", "queued", 6000));
        flows.insert_run(run("other", "f2", "completed", 1000));
        flows.append_run_log("r1", {{0, 1000, "info", "", "started"}});
        Checkpoint failed{"{}", "{}", {}, {{0, "send", "refused", R"({"id":1})"}}};
        flows.commit_checkpoint(*flows.find_run("r3"), failed);
        end_run(flows, "r3", "completed");

        // Keep 2: r6 and r5 are the newest; r4, r3, r1 go, two per batch; r2 stays (r5 retries it).
        CHECK(flows.prune_runs("f1", 0, 2, 2) == 2);
        CHECK(flows.prune_runs("f1", 0, 2, 2) == 1);
        CHECK(flows.prune_runs("f1", 0, 2, 2) == 0);
        CHECK(run_ids(flows, "f1") == std::vector<std::string>{"r6", "r5", "r2"});
        CHECK(flows.run_log("r1", 0, 10).empty());  // the log and failed records went with their run
        CHECK(flows.failed_records("r3", 0, 10).empty());
        CHECK(run_ids(flows, "f2") == std::vector<std::string>{"other"});  // another flow's runs are its own

        // Once the retry is over, the run it retried is an old run like any other.
        end_run(flows, "r5", "completed");
        CHECK(flows.request_cancel("r6", 7000) == CancelOutcome::cancelled);
        CHECK(flows.prune_runs("f1", 0, 2, 10) == 1);
        CHECK(run_ids(flows, "f1") == std::vector<std::string>{"r6", "r5"});
        CHECK(store->integrity_check() == "ok");
    });
}

TEST_CASE("retention: the age prunes runs that started before it; 0 means no limit") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        flows.insert_run(run("old", "f1", "completed", 1000));
        flows.insert_run(run("old-running", "f1", "running", 1500));
        flows.insert_run(run("new", "f1", "failed", 5000));
        CHECK(flows.prune_runs("f1", 0, 0, 10) == 0);  // no limit at all
        CHECK(flows.prune_runs("f1", 2000, 0, 10) == 1);
        CHECK(run_ids(flows, "f1") == std::vector<std::string>{"new", "old-running"});
    });
}

TEST_CASE("retention: flow-scope de-dupe keys expire by when they were made final") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        flows.save_flow(flow("f2"));
        flows.insert_run(run("r1", "f1", "running", 1000));
        flows.insert_run(run("r2", "f2", "running", 1000));
        const int64_t before = now_ms();
        flows.commit_checkpoint(run("r1", "f1", "running", 1000), Checkpoint{"{}", "{}", {{"flow:f1:once", "a"}, {"flow:f1:once", "b"}}, {}});
        flows.commit_checkpoint(run("r2", "f2", "running", 1000), Checkpoint{"{}", "{}", {{"flow:f2:once", "a"}}, {}});
        CHECK(flows.prune_dedupe_keys("f1", before - 1, 10) == 0);  // made final after that
        CHECK(flows.prune_dedupe_keys("f1", now_ms() + 1, 1) == 1);
        CHECK(flows.prune_dedupe_keys("f1", now_ms() + 1, 1) == 1);
        CHECK_FALSE(flows.dedupe_seen("flow:f1:once", "a"));
        CHECK(flows.dedupe_seen("flow:f2:once", "a"));  // another flow's keys are its own
    });
}

TEST_CASE("flows: versions, names, instance references; a delete takes everything of the flow") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        for (const std::string id : {"inst-a", "inst-b", "inst-c"}) {
            InstanceRecord i;
            i.id = i.name = id;
            i.connector = "shopify";
            store->insert_instance(i);
        }
        FlowRecord f = flow("f1", R"({"name":"f1","v":1})");
        f.instances = {{"read", "inst-a"}, {"send", "inst-b"}};
        flows.save_flow(f);
        f.version = 2;
        f.document_json = R"({"name":"f1","v":2})";
        f.instances = {{"read", "inst-c"}};
        flows.save_flow(f);
        const auto found = flows.find_flow("f1");
        REQUIRE(found);
        CHECK(found->version == 2);
        CHECK(found->document_json == R"({"name":"f1","v":2})");
        CHECK(found->instances == std::map<std::string, std::string>{{"read", "inst-c"}});
        CHECK(flows.flow_document("f1", 1) == R"({"name":"f1","v":1})");
        CHECK_FALSE(flows.flow_document("f1", 3));
        CHECK(flows.flows_using_instance("inst-c") == std::vector<std::string>{"f1"});
        CHECK(flows.flows_using_instance("inst-a").empty());  // only the current version counts

        FlowRecord clash = flow("f2");
        clash.name = "f1";
        CHECK_THROWS_WITH_AS(flows.save_flow(clash), doctest::Contains("already exists"), Error);
        flows.set_flow_enabled("f1", false);
        flows.set_webhook_token("f1", "abc123");
        CHECK_FALSE(flows.find_flow("f1")->enabled);
        CHECK(flows.find_flow("f1")->webhook_token_sha256 == "abc123");
        for (const std::string id : {"m", "B", "a", "z"}) flows.save_flow(flow(id));
        std::vector<std::string> names;
        for (const auto& listed : flows.list_flows("B", 2)) names.push_back(listed.name);
        CHECK(names == std::vector<std::string>{"a", "f1"});  // byte order, after "B"

        flows.insert_run(run("r1", "f1", "running", 1000));
        flows.commit_checkpoint(*flows.find_run("r1"), Checkpoint{"{\"page\":1}", "{}", {{"flow:f1:once", "k"}, {"run:r1:page", "k"}},
                                                 {{0, "send", "refused", "{}"}}});
        flows.append_run_log("r1", {{0, 1000, "info", "", "started"}});
        CHECK(flows.delete_flow("f1"));
        CHECK_FALSE(flows.delete_flow("f1"));
        CHECK_FALSE(flows.find_flow("f1"));
        CHECK_FALSE(flows.flow_document("f1", 1));
        CHECK_FALSE(flows.find_run("r1"));
        CHECK(flows.run_log("r1", 0, 10).empty());
        CHECK(flows.failed_records("r1", 0, 10).empty());
        CHECK_FALSE(flows.dedupe_seen("flow:f1:once", "k"));
        CHECK_FALSE(flows.dedupe_seen("run:r1:page", "k"));  // its runs' keys went too
        // A run started for a flow deleted meanwhile is not a name clash.
        bool refused = false;
        try {
            flows.insert_run(run("r2", "f1", "running", 2000));
        } catch (const Error& e) {
            refused = true;
            CHECK(e.code() == Errc::not_found);
        }
        CHECK(refused);
        CHECK(store->integrity_check() == "ok");
    });
}

TEST_CASE("runs: newest first in pages, counts per flow and status, logs and failures in order") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        flows.save_flow(flow("f2"));
        for (int i = 0; i < 7; ++i)
            flows.insert_run(run("r" + std::to_string(i), "f1", i % 2 ? "failed" : "completed", 1000 + i));
        flows.insert_run(run("other", "f2", "running", 5));
        CHECK(run_ids(flows, "f1").front() == "r6");
        RunQuery q;
        q.flow_id = "f1";
        q.limit = 3;
        std::vector<std::string> paged;
        for (;;) {
            const auto page = flows.list_runs(q);
            for (const auto& r : page) paged.push_back(r.id);
            if (page.size() < q.limit) break;
            q.before_ms = page.back().started_ms;
        }
        CHECK(paged == std::vector<std::string>{"r6", "r5", "r4", "r3", "r2", "r1", "r0"});
        q = {};
        q.status = "failed";
        CHECK(flows.list_runs(q).size() == 3);
        const auto counts = flows.count_runs();
        CHECK(counts.at("f1").at("completed") == 4);
        CHECK(counts.at("f1").at("failed") == 3);
        CHECK(counts.at("f2").at("running") == 1);

        const auto back = flows.find_run("r0");
        REQUIRE(back);
        CHECK(back->payload_json == R"({"id":1})");
        CHECK(back->trigger == "webhook");
        end_run(flows, "other", "cancelled", "stopped by admin");
        CHECK(flows.find_run("other")->error == "stopped by admin");
        CHECK(flows.find_run("other")->host == kTestHost);

        std::vector<RunLogLine> lines;
        for (int i = 0; i < 25; ++i) lines.push_back({0, 1000 + i, "info", "read", "page " + std::to_string(i)});
        flows.append_run_log("r0", lines);
        const auto first = flows.run_log("r0", 0, 10);
        REQUIRE(first.size() == 10);
        const auto next = flows.run_log("r0", first.back().seq, 100);
        REQUIRE(next.size() == 15);
        CHECK(next.front().message == "page 10");
        CHECK(next.back().message == "page 24");
        CHECK(next.front().seq > first.back().seq);
    });
}

TEST_CASE("a checkpoint and a run's end are each one write: keys, failures, cursors and status") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        flows.insert_run(run("r1", "f1", "running", 1000));
        flows.commit_checkpoint(*flows.find_run("r1"), Checkpoint{R"({"page":2})", R"({"read":{"in":2}})",
                                                 {{"run:r1:send", "order-1"}, {"flow:f1:once", "order-1"}},
                                                 {{0, "send", "refused: 422", R"({"id":7})"}}});
        CHECK(flows.find_run("r1")->checkpoint_json == R"({"page":2})");
        CHECK(flows.find_run("r1")->counts_json == R"({"read":{"in":2}})");
        CHECK(flows.dedupe_seen("run:r1:send", "order-1"));
        CHECK(flows.dedupe_seen("flow:f1:once", "order-1"));
        CHECK_FALSE(flows.dedupe_seen("run:r1:send", "order-2"));
        // The same key made final again (a page replayed after a crash) is no error.
        flows.commit_checkpoint(*flows.find_run("r1"), Checkpoint{R"({"page":3})", "{}", {{"flow:f1:once", "order-1"}},
                                                 {{0, "send", "refused: 500", R"({"id":8})"}}});
        const auto failures = flows.failed_records("r1", 0, 10);
        REQUIRE(failures.size() == 2);
        CHECK(failures[0].reason == "refused: 422");
        CHECK(failures[1].record_json == R"({"id":8})");
        CHECK(flows.failed_records("r1", failures[0].seq, 10).size() == 1);

        RunRecord done = *flows.find_run("r1");
        done.status = "completed_with_errors";
        done.ended_ms = 2000;
        flows.finish_run(done, Checkpoint{R"({"page":4})", R"({"send":{"out":3}})", {}, {}},
                         {{"read", "2026-12-01T00:00:00Z"}});
        const auto finished = flows.find_run("r1");
        CHECK(finished->status == "completed_with_errors");
        CHECK(finished->ended_ms == 2000);
        CHECK(finished->checkpoint_json == R"({"page":4})");
        CHECK(flows.flow_cursors("f1") == std::map<std::string, std::string>{{"read", "2026-12-01T00:00:00Z"}});
        CHECK_FALSE(flows.dedupe_seen("run:r1:send", "order-1"));  // the run's own keys are dropped
        CHECK(flows.dedupe_seen("flow:f1:once", "order-1"));      // the flow's stay
    });
}

TEST_CASE("de-dupe keys are kept byte for byte: NUL, stray bytes and U+FFFD are three keys") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        flows.insert_run(run("r1", "f1", "running", 1000));
        const std::string nul("a\0b", 3), stray("a\xff" "b"), replacement("a\xEF\xBF\xBD" "b"),
            prefixed("\xEF\xBF\xBEhex:61");
        flows.commit_checkpoint(*flows.find_run("r1"), Checkpoint{"{}", "{}", {{"flow:f1:k", nul}, {"flow:f1:k", prefixed}}, {}});
        CHECK(flows.dedupe_seen("flow:f1:k", nul));
        CHECK(flows.dedupe_seen("flow:f1:k", prefixed));
        CHECK_FALSE(flows.dedupe_seen("flow:f1:k", stray));
        CHECK_FALSE(flows.dedupe_seen("flow:f1:k", replacement));
        CHECK_FALSE(flows.dedupe_seen("flow:f1:k", "a"));  // what the prefixed key would spell
        CHECK_FALSE(flows.dedupe_seen("flow:f1:k", std::string("a\0c", 3)));
        flows.commit_checkpoint(*flows.find_run("r1"), Checkpoint{"{}", "{}", {{"flow:f1:k", stray}}, {}});
        CHECK(flows.dedupe_seen("flow:f1:k", stray));
        CHECK_FALSE(flows.dedupe_seen("flow:f1:k", replacement));
    });
}

namespace {

// A host's lease of 6 s, on a clock stopped at `now_ms`.
RunLease at(const char* host, int64_t now_ms) {
    RunLease lease;
    lease.host = host;
    lease.duration_ms = 6000;
    lease.clock = [now_ms] { return now_ms; };
    return lease;
}

HeldRun held(const ClaimedRun& claim) { return {claim.run.id, claim.run.lease_epoch}; }

}  // namespace

TEST_CASE("leases: one host holds a run; interrupted runs go first; a crash counts, a hand-back does not") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        RunRecord queued = run("q1", "f1", "queued", 1000);
        queued.host.clear();
        flows.insert_run(queued);
        flows.insert_run(run("i1", "f1", "running", 2000));  // its host's lease (none) ran out

        auto a = flows.claim_run(at("A", 10'000));
        REQUIRE(a);
        CHECK(a->run.id == "i1");  // interrupted first, though queued earlier
        CHECK(a->interrupted);
        CHECK(a->crashes == 1);
        CHECK(a->run.resumed);
        CHECK(a->run.host == "A");
        CHECK(flows.find_run("i1")->host == "A");
        CHECK(flows.find_run("i1")->lease_epoch == a->run.lease_epoch);
        auto b = flows.claim_run(at("B", 10'000));
        REQUIRE(b);
        CHECK(b->run.id == "q1");
        CHECK_FALSE(b->interrupted);
        CHECK(b->crashes == 0);
        CHECK(flows.find_run("q1")->status == "running");
        CHECK_FALSE(flows.claim_run(at("C", 10'000)));  // both are held until 16 s
        CHECK(flows.renew_leases(at("B", 15'000), {held(*b)}) == std::map<std::string, bool>{{"q1", false}});

        // A's lease runs out: C takes the run over, a second crash in a row.
        auto c = flows.claim_run(at("C", 17'000));
        REQUIRE(c);
        CHECK(c->run.id == "i1");
        CHECK(c->crashes == 2);
        CHECK(c->run.lease_epoch > a->run.lease_epoch);
        // A, back from a pause, writes nothing more of it: the checkpoint and the end are fenced.
        CHECK_THROWS_WITH_AS(flows.commit_checkpoint(a->run, Checkpoint{R"({"page":9})", "{}", {{"flow:f1:x", "k"}}, {}}),
                             doctest::Contains("no longer held"), Error);
        RunRecord a_end = a->run;
        a_end.status = "completed";
        CHECK_THROWS_AS(flows.finish_run(a_end, Checkpoint{"{}", "{}", {}, {}}, {{"read", "cursor-from-a"}}), Error);
        CHECK(flows.find_run("i1")->status == "running");
        CHECK(flows.find_run("i1")->checkpoint_json == "{}");
        CHECK_FALSE(flows.dedupe_seen("flow:f1:x", "k"));
        CHECK(flows.flow_cursors("f1").empty());
        CHECK(flows.renew_leases(at("A", 17'000), {held(*a)}).empty());  // A learns it lost the run
        flows.release_run("A", held(*a));                                // and cannot hand it back
        CHECK(flows.find_run("i1")->host == "C");
        CHECK(flows.renew_leases(at("C", 24'000), {held(*c)}) == std::map<std::string, bool>{{"i1", false}});
        CHECK_FALSE(flows.claim_run(at("A", 25'000), "i1"));  // renewed until 30 s

        // The same host claiming its own lapsed run again: the older claim is fenced out too.
        auto c2 = flows.claim_run(at("C", 31'000), "i1");
        REQUIRE(c2);
        CHECK_THROWS_AS(flows.commit_checkpoint(c->run, Checkpoint{"{}", "{}", {}, {}}), Error);
        CHECK(flows.renew_leases(at("C", 31'000), {held(*c)}).empty());

        // C stops cleanly: the run is handed back and the next claim counts no crash.
        const int64_t crashes_before = c2->crashes;
        flows.release_run("C", held(*c2));
        CHECK(flows.find_run("i1")->host.empty());
        auto again = flows.claim_run(at("A", 31'000), "i1");
        REQUIRE(again);
        CHECK(again->run.id == "i1");
        CHECK(again->crashes == crashes_before);
        // Progress starts the count again; A's next process finds its lease ended at once.
        flows.commit_checkpoint(again->run, Checkpoint{R"({"page":1})", "{}", {}, {}});
        flows.expire_leases("A");
        auto restarted = flows.claim_run(at("A", 31'000), "i1");
        REQUIRE(restarted);
        CHECK(restarted->crashes == 1);
        CHECK(restarted->run.checkpoint_json == R"({"page":1})");
        CHECK(store->integrity_check() == "ok");
    });
}

TEST_CASE("leases: a cancel stops a queued run at once and asks the host of a running one") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        for (const char* id : {"q1", "q2", "q3"}) flows.insert_run(run(id, "f1", "queued", 1000));
        CHECK(flows.request_cancel("q1", 5000) == CancelOutcome::cancelled);
        CHECK(flows.find_run("q1")->status == "cancelled");
        CHECK(flows.find_run("q1")->ended_ms == 5000);
        CHECK(flows.request_cancel("q1", 5000) == CancelOutcome::not_open);
        CHECK(flows.request_cancel("nope", 5000) == CancelOutcome::not_open);

        auto taken = flows.claim_run(at("A", 10'000), "q3");  // that run only
        REQUIRE(taken);
        CHECK(taken->run.id == "q3");
        CHECK(flows.request_cancel("q3", 11'000) == CancelOutcome::requested);
        CHECK(flows.renew_leases(at("A", 12'000), {held(*taken)}) == std::map<std::string, bool>{{"q3", true}});
        // Asked while no host holds it: the next to take it is told.
        flows.release_run("A", held(*taken));
        auto next = flows.claim_run(at("B", 12'000), "q3");
        REQUIRE(next);
        CHECK(next->cancel_requested);
        CHECK_FALSE(flows.claim_run(at("B", 12'000), "q1"));  // cancelled: nobody takes it

        // A queued run claimed as its host began to stop goes back to the queue as it was.
        auto unstarted = flows.claim_run(at("B", 12'000), "q2");
        REQUIRE(unstarted);
        flows.release_run("B", held(*unstarted), true);
        CHECK(flows.find_run("q2")->status == "queued");
        auto retaken = flows.claim_run(at("C", 12'000), "q2");
        REQUIRE(retaken);
        CHECK_FALSE(retaken->interrupted);
        CHECK_FALSE(retaken->run.resumed);
    });
}

TEST_CASE("leases: hosts claiming at once never take the same run") {
    for_each_store([](StoreUnderTest& engine) {
        constexpr int kRuns = 60;
        auto setup = engine.open();
        setup->flows().save_flow(flow("f1"));
        for (int i = 0; i < kRuns; ++i) {
            RunRecord r = run("r" + std::to_string(100 + i), "f1", "queued", 1000 + i);
            r.host.clear();
            setup->flows().insert_run(r);
        }
        // PostgreSQL: three hosts, each its own connection. SQLite has one host per file:
        // three threads on one store.
        std::vector<std::unique_ptr<Store>> hosts;
        for (int h = 0; h < 3; ++h) hosts.push_back(engine.is_postgres() ? engine.open() : nullptr);
        std::vector<std::vector<std::string>> taken(3);
        std::vector<std::thread> threads;
        for (int h = 0; h < 3; ++h)
            threads.emplace_back([&, h] {
                Store& s = hosts[h] ? *hosts[h] : *setup;
                const std::string host = "H" + std::to_string(h);
                RunLease lease;
                lease.host = host;
                lease.duration_ms = 60'000;
                while (auto c = s.flows().claim_run(lease))
                    taken[h].push_back(c->run.id);
            });
        for (auto& t : threads) t.join();
        std::set<std::string> all;
        size_t total = 0;
        for (const auto& list : taken) {
            total += list.size();
            all.insert(list.begin(), list.end());
        }
        CHECK(total == kRuns);
        CHECK(all.size() == kRuns);
    });
}

TEST_CASE("schedules: each tick starts one run, whichever host reaches it first, and none over an open run") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        auto& flows = store->flows();
        flows.save_flow(flow("f1"));
        flows.save_flow(flow("f2"));
        const auto cursors = [](const std::map<std::string, std::string>& c) {
            return c.empty() ? std::string("{}") : R"({"read":")" + c.at("read") + "\"}";
        };
        const auto tick_run = [](const char* id, const char* flow_id) {
            RunRecord r = run(id, flow_id, "queued", 60'000);
            r.trigger = "schedule";
            r.host.clear();
            return r;
        };
        CHECK(flows.insert_scheduled_run(tick_run("s1", "f1"), 60'000, cursors) == ScheduledRun::inserted);
        CHECK(flows.insert_scheduled_run(tick_run("s2", "f1"), 60'000, cursors) == ScheduledRun::already_fired);  // host 2
        CHECK_FALSE(flows.find_run("s2"));
        CHECK(flows.insert_scheduled_run(tick_run("s3", "f1"), 0, cursors) == ScheduledRun::already_fired);  // an older tick
        CHECK(flows.insert_scheduled_run(tick_run("s4", "f2"), 60'000, cursors) == ScheduledRun::inserted);  // its own ticks
        // s1 is still queued: the next tick is spent without a run.
        CHECK(flows.insert_scheduled_run(tick_run("s5", "f1"), 120'000, cursors) == ScheduledRun::previous_still_open);
        CHECK(flows.insert_scheduled_run(tick_run("s6", "f1"), 120'000, cursors) == ScheduledRun::already_fired);
        // The previous run ends just before the tick: the new run starts where it ended.
        auto held_s1 = flows.claim_run(RunLease{"A"}, "s1");
        REQUIRE(held_s1);
        RunRecord ended = held_s1->run;
        ended.status = "completed";
        flows.finish_run(ended, Checkpoint{"{}", "{}", {}, {}}, {{"read", "2026-12-06"}});
        CHECK(flows.insert_scheduled_run(tick_run("s7", "f1"), 180'000, cursors) == ScheduledRun::inserted);
        CHECK(flows.find_run("s7")->start_cursors_json == R"({"read":"2026-12-06"})");
        CHECK(run_ids(flows, "f1") == std::vector<std::string>{"s7", "s1"});
    });
}

TEST_CASE("hosts: a heartbeat replaces the host's row and its versions; old hosts are forgotten") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        store->put_host({"h2", "beta", "0.9", "http://127.0.0.1:2", "running", 100, 1000, {{"shopify", "1.0.0"}}});
        store->put_host({"h1", "alpha", "1.0", "http://127.0.0.1:1", "running", 100, 1000,
                         {{"shopify", "1.0.0"}, {"netsuite", "2.0.0"}}});
        store->put_host({"h1", "alpha", "1.0", "http://127.0.0.1:1", "draining", 100, 5000, {{"shopify", "1.1.0"}}});
        auto hosts = store->list_hosts();
        REQUIRE(hosts.size() == 2);
        CHECK(hosts[0].id == "h1");
        CHECK(hosts[0].state == "draining");
        CHECK(hosts[0].seen_ms == 5000);
        CHECK(hosts[0].versions == std::map<std::string, std::string>{{"shopify", "1.1.0"}});  // replaced, not merged
        CHECK(hosts[1].version == "0.9");
        CHECK(hosts[1].versions == std::map<std::string, std::string>{{"shopify", "1.0.0"}});
        CHECK(store->forget_hosts(2000) == 1);
        hosts = store->list_hosts();
        REQUIRE(hosts.size() == 1);
        CHECK(hosts[0].versions.size() == 1);
        // The forgotten host's versions went with it: a host row of that id written by
        // hand (not through put_host, which replaces them itself) has none.
        store.reset();  // SQLite's file is the store's alone while it is open
        engine.sql("INSERT INTO hosts(id, name, version, address, state, started_ms, seen_ms) "
                   "VALUES('h2', 'beta', '0.9', '', 'running', 100, 6000)");
        store = engine.open();
        CHECK(store->list_hosts()[1].versions.empty());
    });
}

TEST_CASE("connector state: a switch or a write from a stale read is refused, not applied over another host's") {
    for_each_store([](StoreUnderTest& engine) {
        auto store = engine.open();
        CHECK(store->replace_connector_state({"shopify", "1.0.0", "", "manual", ""}, ""));  // the first
        CHECK_FALSE(store->replace_connector_state({"shopify", "1.0.0", "", "auto", ""}, ""));  // another was first
        // Host B switches 1.0.0 -> 1.1.0; host A's switch planned from 1.0.0 too commits nothing.
        store->commit_version_switch({"shopify", "1.1.0", "1.0.0", "manual", ""}, {}, {},
                                     {0, "shopify", "apply", "1.0.0", "1.1.0", "b", 1, "done", ""});
        CHECK_THROWS_WITH_AS(store->commit_version_switch({"shopify", "2.0.0", "1.0.0", "manual", ""}, {}, {},
                                                          {0, "shopify", "apply", "1.0.0", "2.0.0", "a", 2, "done", ""}),
                             doctest::Contains("another host switched shopify to 1.1.0"), Error);
        CHECK(store->connector_state("shopify")->active_version == "1.1.0");
        CHECK(store->history("shopify", 10).size() == 1);
        // A policy written from the read of 1.0.0 does not put 1.0.0 back.
        CHECK_FALSE(store->replace_connector_state({"shopify", "1.0.0", "", "auto", ""}, "1.0.0"));
        CHECK(store->replace_connector_state({"shopify", "1.1.0", "1.0.0", "auto", ""}, "1.1.0"));
        CHECK(store->connector_state("shopify")->update_policy == "auto");
    });
}

TEST_CASE("announcements: a version switch or a package through one host wakes the others' listeners") {
    for_each_store([](StoreUnderTest& engine) {
        auto writer = engine.open();
        auto other_host = engine.is_postgres() ? engine.open() : nullptr;  // a SQLite file has one host
        Store& reader = other_host ? *other_host : *writer;
        auto changes = reader.listen_for_changes();
        changes->wait(std::chrono::milliseconds(0));  // a first wait connects (and may report a change)
        if (!engine.is_postgres()) {
            // One host's file: nothing to hear; a wait is a pause that interrupt() ends.
            writer->put_connector_state({"shopify", "1.0.0", "", "manual", ""});
            CHECK_FALSE(changes->wait(std::chrono::milliseconds(50)));
            changes->interrupt();
            const auto before = std::chrono::steady_clock::now();
            CHECK_FALSE(changes->wait(std::chrono::seconds(30)));
            CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(20));
            return;
        }
        CHECK_FALSE(changes->wait(std::chrono::milliseconds(50)));
        writer->put_connector_state({"shopify", "1.0.0", "", "manual", ""});
        CHECK(changes->wait(std::chrono::seconds(30)));
        CHECK_FALSE(changes->wait(std::chrono::milliseconds(50)));  // one announcement, heard once
        writer->commit_version_switch({"shopify", "1.1.0", "1.0.0", "manual", ""}, {}, {},
                                      {0, "shopify", "apply", "1.0.0", "1.1.0", "admin", 1, "done", ""});
        CHECK(changes->wait(std::chrono::seconds(30)));
        CHECK(writer->put_package({"cd34", "shopify", "1.1.0", "shopify.connector.json", "", "{}", 1}, true));
        CHECK(changes->wait(std::chrono::seconds(30)));
        CHECK_FALSE(writer->put_package({"cd34", "shopify", "1.1.0", "shopify.connector.json", "", "{}", 1}, true));
        CHECK_FALSE(changes->wait(std::chrono::milliseconds(100)));  // nothing new: nothing said
        CHECK(reader.list_connector_states().size() == 1);
        CHECK(reader.list_connector_states()[0].active_version == "1.1.0");

        // A listener whose session was cut reports a change (it may have missed one) and listens again.
        StoreUnderTest::postgres().sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                                       engine.database() + "' AND query LIKE 'LISTEN%'");
        CHECK(changes->wait(std::chrono::seconds(30)));
        changes->wait(std::chrono::milliseconds(0));  // connects again
        writer->put_connector_state({"shopify", "1.1.0", "1.0.0", "auto", ""});
        CHECK(changes->wait(std::chrono::seconds(30)));
        changes->interrupt();
        CHECK_FALSE(changes->wait(std::chrono::seconds(30)));
    });
}
