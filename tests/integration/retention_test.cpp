// Nothing leaked (issue 15): a webhook flow flooded with 1 MB bodies keeps the store
// bounded once retention prunes its old runs in the background; the runs retention keeps
// are still listed and readable; calls over a flow's rate limit get 429 with Retry-After
// and are not stored; a body over max-webhook-bytes gets 413 saying which setting.
// The waits are generous (pruning runs every second here); nothing asserts a timing.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

using namespace junction::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kKeptRuns = 5;
constexpr int kRounds = 6;
constexpr int kCallsPerRound = 10;
constexpr size_t kBodyBytes = 1'000'000;
// The store may hold the kept runs, one round not yet pruned, SQLite's free pages and its
// write-ahead log: well under the 60 MB the flood sends, which it would hold without retention.
constexpr uintmax_t kStoreBound = 32ull << 20;

rapidjson::Document json_of(const HttpAnswer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    return d;
}

// The store file and its write-ahead log, in bytes.
uintmax_t store_bytes(const fs::path& state) {
    uintmax_t total = 0;
    for (const char* name : {"junction.db", "junction.db-wal"})
        if (fs::exists(state / name)) total += fs::file_size(state / name);
    return total;
}

// A body of about `bytes`: one record with a large field.
std::string big_body(int n, size_t bytes) {
    return R"({"n":)" + std::to_string(n) + R"(,"blob":")" + std::string(bytes - 32, 'x') + R"("})";
}

std::vector<std::string> listed_runs(const JunctiondProcess& d, const std::string& flow) {
    const HttpAnswer a = d.call("GET", "/v1/runs?flow=" + flow + "&limit=1000");
    REQUIRE(a.status == 200);
    std::vector<std::string> ids;
    const auto listed = json_of(a);  // the loop below must not run over a destroyed temporary
    for (const auto& r : listed["items"].GetArray()) ids.emplace_back(r["id"].GetString());
    return ids;
}

// Waits (generously) until retention brought the flow down to what it keeps.
void wait_pruned(const JunctiondProcess& d, const std::string& flow) {
    const auto until = std::chrono::steady_clock::now() + 120s;
    while (listed_runs(d, flow).size() > static_cast<size_t>(kKeptRuns)) {
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "retention did not prune the flow's runs");
        std::this_thread::sleep_for(100ms);
    }
}

std::string save_webhook_flow(const JunctiondProcess& d, const std::string& document) {
    const HttpAnswer saved = d.call("POST", "/v1/flows", document);
    REQUIRE_MESSAGE(saved.status == 201, saved.body);
    return json_of(saved)["webhook_url_path"].GetString();
}

}  // namespace

TEST_CASE("a flood of 1 MB webhook calls leaves the store bounded and the kept runs listed") {
    // Daemon-wide: 5 runs kept per flow, pruned every second; the flood's rate is not limited.
    JunctiondProcess d({}, {"--retention-runs", std::to_string(kKeptRuns), "--retention-interval", "1",
                            "--webhook-rate-per-minute", "0"});
    const std::string hook = save_webhook_flow(d, R"({"name": "flood", "trigger": {"type": "webhook"}, "shapes": [
      {"id": "drop", "type": "filter", "condition": {"field": "/n", "op": "eq", "value": -1}}]})");
    const uintmax_t before = store_bytes(d.state_dir());

    uintmax_t largest = before;
    std::string first_run;
    std::vector<std::string> last_round;
    for (int round = 0; round < kRounds; ++round) {
        last_round.clear();
        for (int i = 0; i < kCallsPerRound; ++i) {
            const HttpAnswer a = http_call("POST", d.url() + hook, big_body(round * kCallsPerRound + i, kBodyBytes));
            REQUIRE_MESSAGE(a.status == 202, a.body);
            last_round.emplace_back(json_of(a)["run"].GetString());
            if (first_run.empty()) first_run = last_round.back();
        }
        largest = std::max(largest, store_bytes(d.state_dir()));
        wait_pruned(d, "flood");
        largest = std::max(largest, store_bytes(d.state_dir()));
    }
    const uintmax_t after = store_bytes(d.state_dir());
    MESSAGE("store before the flood " << before << " bytes, largest during it " << largest << ", after it " << after
                                      << " (" << kRounds * kCallsPerRound << " calls of " << kBodyBytes << " bytes)");
    CHECK(largest < kStoreBound);
    CHECK(after < kStoreBound);

    // What retention keeps is the newest runs, all from the last round, each readable.
    const auto kept = listed_runs(d, "flood");
    CHECK(kept.size() == static_cast<size_t>(kKeptRuns));
    const std::set<std::string> newest(last_round.begin(), last_round.end());
    for (const auto& id : kept) {
        CHECK(newest.count(id) == 1);
        const HttpAnswer run = d.call("GET", "/v1/runs/" + id);
        REQUIRE(run.status == 200);
        CHECK(std::string(json_of(run)["status"].GetString()) == "completed");
        CHECK(d.call("GET", "/v1/runs/" + id + "/log").status == 200);
    }
    CHECK(std::find(kept.begin(), kept.end(), last_round.back()) != kept.end());
    // A pruned run is gone, log and all.
    CHECK(d.call("GET", "/v1/runs/" + first_run).status == 404);
    CHECK(d.call("GET", "/v1/runs/" + first_run + "/log").status == 404);
}

TEST_CASE("a flow's rate limit answers 429 with Retry-After and stores nothing; a body too large gets 413") {
    JunctiondProcess d({});
    const std::string hook = save_webhook_flow(d, R"({"name": "limited",
      "trigger": {"type": "webhook", "rate_limit": {"per_minute": 1, "burst": 2}}, "shapes": [
      {"id": "drop", "type": "filter", "condition": {"field": "/n", "op": "eq", "value": -1}}]})");
    CHECK(http_call("POST", d.url() + hook, R"({"n": 1})").status == 202);
    CHECK(http_call("POST", d.url() + hook, R"({"n": 2})").status == 202);
    const HttpAnswer refused = http_call("POST", d.url() + hook, R"({"n": 3})");
    REQUIRE(refused.status == 429);
    const std::string retry_after = refused.header("Retry-After");
    REQUIRE_FALSE(retry_after.empty());
    CHECK(std::stoi(retry_after) >= 1);
    CHECK(std::stoi(retry_after) <= 60);  // one token a minute
    const auto error = json_of(refused);
    CHECK(std::string(error["error"]["code"].GetString()) == "rate_limited");
    const std::string message = error["error"]["message"].GetString();
    CHECK(message.find("flow limited accepts 1 webhook calls a minute (bursts of 2)") == 0);
    CHECK(message.find("not stored") != std::string::npos);
    CHECK(message.find("rate_limit") != std::string::npos);
    CHECK(listed_runs(d, "limited").size() == 2);
    // A wrong secret is still an unknown address, whatever the bucket holds.
    const std::string flow_id = hook.substr(7, hook.rfind('/') - 7);
    CHECK(http_call("POST", d.url() + "/hooks/" + flow_id + "/wrong", R"({"n": 4})").status == 404);

    // The body bound (max-webhook-bytes, 1 MiB by default) is checked before the rate limit.
    const HttpAnswer too_large = http_call("POST", d.url() + hook, big_body(5, (1u << 20) + 100));
    CHECK(too_large.status == 413);
    CHECK(json_of(too_large)["error"]["message"].GetString() ==
          std::string("the body (max-webhook-bytes) is larger than 1048576 bytes; send less in one call, or raise "
                      "max-webhook-bytes in junctiond's settings"));

    // Retention and rate limits are checked when a flow is saved.
    const HttpAnswer wrong = d.call("POST", "/v1/flows", R"({"name": "wrong", "retention": {"runs": -1, "years": 1},
      "trigger": {"type": "manual", "rate_limit": {"per_minute": 1}}, "shapes": [
      {"id": "drop", "type": "filter", "condition": {"field": "/n", "op": "eq", "value": -1}}]})");
    CHECK(wrong.status == 400);
    CHECK(wrong.body.find("at /retention/runs: must be a whole number from 0 to 100000000") != std::string::npos);
    CHECK(wrong.body.find("at /retention/years: is not a known setting here") != std::string::npos);
    CHECK(wrong.body.find("at /trigger/rate_limit: belongs to a webhook trigger") != std::string::npos);
}
