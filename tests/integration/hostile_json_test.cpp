// Hostile JSON against a real junctiond (issue 13): absurdly deep bodies to the admin API and
// a webhook, numbers past the double range, a byte-order mark, invalid UTF-8, duplicate keys,
// and a connector page nested 200,000 deep. Each gets its clear error; the daemon keeps
// answering, the store is unchanged, and every answer is valid UTF-8 JSON.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/json.hpp>

#include <chrono>
#include <csignal>
#include <thread>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The answer parsed by the daemon's own entry point: proves it is valid UTF-8 JSON.
rapidjson::Document json_of(const HttpAnswer& a) {
    try {
        return junction::core::parse_json_text(a.body, "the answer");
    } catch (const junction::core::Error& e) {
        FAIL("the answer is not valid JSON (" << e.message() << "): " << a.body.substr(0, 300));
        return {};
    }
}

// The error message of a 400 answer.
std::string refusal(const HttpAnswer& a) {
    CHECK_MESSAGE(a.status == 400, a.body.substr(0, 300));
    const auto d = json_of(a);
    REQUIRE(d.IsObject());
    REQUIRE(d.HasMember("error"));
    return d["error"]["message"].GetString();
}

std::string nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_objects(size_t depth) {
    std::string text;
    for (size_t i = 0; i < depth; ++i) text += R"({"":)";
    return text + "1" + std::string(depth, '}');
}

struct HostileDaemon : JunctiondProcess {
    explicit HostileDaemon(std::vector<std::string> settings = {}) : JunctiondProcess({"jsonl.so"}, std::move(settings)) {}
    fs::path plugin_folder() const { return state_dir().parent_path() / "plugins"; }
    void alive() const {
        const HttpAnswer health = http_call("GET", url() + "/healthz");
        REQUIRE(health.status == 200);
        json_of(health);
        const HttpAnswer instances = call("GET", "/v1/instances");
        REQUIRE(instances.status == 200);
        json_of(instances);
    }
};

// A jsonl instance "inbox" writing into `files` and a webhook flow "hook" storing into it;
// returns the webhook's URL.
std::string webhook_into_file(const HostileDaemon& d, const TempDir& files) {
    REQUIRE(d.call("POST", "/v1/instances",
                   R"({"connector":"jsonl","name":"inbox","config":{"path":)" + json_text((files / "in.jsonl").string()) + "}}")
                .status == 201);
    const HttpAnswer saved = d.call("POST", "/v1/flows", R"({"name": "hook", "trigger": {"type": "webhook"}, "shapes": [
      {"id": "store", "type": "connection", "instance": "inbox", "endpoint": "records.send", "direction": "send"}]})");
    REQUIRE(saved.status == 201);
    return d.url() + json_of(saved)["webhook_url_path"].GetString();
}

}  // namespace

TEST_CASE("deep, out-of-range, BOM, bad UTF-8 and duplicate-key bodies get 400 and change nothing") {
    HostileDaemon d;
    TempDir files;
    const std::string hook = webhook_into_file(d, files);
    const std::string instances_before = d.call("GET", "/v1/instances").body;
    const std::string flows_before = d.call("GET", "/v1/flows").body;
    const std::string runs_before = d.call("GET", "/v1/runs").body;

    for (size_t depth : {10'000, 150'000, 500'000}) {
        CAPTURE(depth);
        const std::string deep = nested_arrays(depth);
        const std::string instance = refusal(d.call("POST", "/v1/instances", deep));
        CHECK(instance.find("the request body nests deeper than 128 levels at /0/0/") == 0);
        CHECK(instance.find("(json-max-depth)") != std::string::npos);
        const std::string flow = refusal(d.call("POST", "/v1/flows", deep));
        CHECK(flow.find("nests deeper than 128 levels") != std::string::npos);
        CHECK(flow.find("(json-max-depth)") != std::string::npos);
        const std::string webhook = refusal(http_call("POST", hook, deep));
        CHECK(webhook.find("the webhook body nests deeper than 128 levels") == 0);
        CHECK(webhook.find("(json-max-depth)") != std::string::npos);
        d.alive();
    }
    // The issue's crash loop: 100,000 nested {"": in a webhook body.
    CHECK(refusal(http_call("POST", hook, nested_objects(100'000))).find("nests deeper than 128 levels") !=
          std::string::npos);

    const std::string path = json_text((files / "x.jsonl").string());
    CHECK(refusal(d.call("POST", "/v1/instances",
                         R"({"connector":"jsonl","name":"big","config":{"path":)" + path + R"(,"page_size":2e308}})")) ==
          "the request body has a number outside the range of a double at /config/page_size; send a smaller number or a string");
    CHECK(refusal(d.call("POST", "/v1/instances",
                         R"({"connector":"jsonl","name":"neg","config":{"path":)" + path + R"(,"page_size":-2e308}})"))
              .find("outside the range of a double at /config/page_size") != std::string::npos);
    CHECK(refusal(http_call("POST", hook, R"({"amount":2e308})")).find("outside the range of a double at /amount") !=
          std::string::npos);
    CHECK(refusal(d.call("POST", "/v1/flows", "\xEF\xBB\xBF" R"({"name": "bom", "trigger": {"type": "manual"}, "shapes": []})"))
              .find("byte-order mark") != std::string::npos);
    CHECK(refusal(d.call("POST", "/v1/instances",
                         "{\"connector\":\"jsonl\",\"name\":\"bad\xFF\",\"config\":{\"path\":" + path + "}}")) ==
          "the request body has invalid UTF-8 in the string at /name");
    CHECK(refusal(d.call("POST", "/v1/instances",
                         "{\"connector\":\"jsonl\",\"name\":\"utf\",\"config\":{\"path\":\"\xC0\xAF\"}}")) ==
          "the request body has invalid UTF-8 in the string at /config/path");
    CHECK(refusal(http_call("POST", hook, "{\"name\":\"\xED\xA0\x80\"}")) ==
          "the webhook body has invalid UTF-8 in the string at /name");
    CHECK(refusal(d.call("POST", "/v1/instances",
                         R"({"connector":"jsonl","name":"dup","config":{"path":)" + path + R"(,"path":"/tmp/other"}})")) ==
          "the request body has the key \"path\" twice in the object at /config; keep one");
    CHECK(refusal(d.call("POST", "/v1/flows", R"({"name": "a", "name": "b", "trigger": {"type": "manual"}, "shapes": []})"))
              .find("twice") != std::string::npos);

    d.alive();
    CHECK(d.call("GET", "/v1/instances").body == instances_before);
    CHECK(d.call("GET", "/v1/flows").body == flows_before);
    CHECK(d.call("GET", "/v1/runs").body == runs_before);
}

TEST_CASE("a connector page nested 200,000 deep fails its run with an invalid-page error; the daemon lives") {
    HostileDaemon d;
    TempDir files;
    fs::copy_file(fixture("deep_page_connector"), d.plugin_folder() / "deep_page_connector.so");
    d.signal(SIGHUP);  // the plugin folder is scanned again
    for (int i = 0; i < 200 && d.call("GET", "/v1/connectors/deep-page").status != 200; ++i) std::this_thread::sleep_for(50ms);
    REQUIRE(d.call("GET", "/v1/connectors/deep-page").status == 200);
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"deep-page","name":"deep","config":{}})").status == 201);
    REQUIRE(d.call("POST", "/v1/instances",
                   R"({"connector":"jsonl","name":"sink","config":{"path":)" + json_text((files / "out.jsonl").string()) + "}}")
                .status == 201);
    REQUIRE(d.call("POST", "/v1/flows", R"({"name": "deep", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": "deep", "endpoint": "records.receive", "direction": "receive", "next": "store"},
      {"id": "store", "type": "connection", "instance": "sink", "endpoint": "records.send", "direction": "send"}]})")
                .status == 201);
    const HttpAnswer started = d.call("POST", "/v1/flows/deep/runs");
    REQUIRE(started.status == 202);
    const std::string run = json_of(started)["id"].GetString();
    std::string status = "queued";
    rapidjson::Document view;
    for (int i = 0; i < 600 && (status == "queued" || status == "running"); ++i) {
        std::this_thread::sleep_for(50ms);
        view = json_of(d.call("GET", "/v1/runs/" + run));
        status = view["status"].GetString();
    }
    CHECK(status == "failed");
    const std::string error = view["error"].GetString();
    CHECK(error.find("invalid page: the page from records.receive nests deeper than 128 levels") != std::string::npos);
    CHECK(error.find("(json-max-depth)") != std::string::npos);
    d.alive();
    json_of(d.call("GET", "/v1/runs/" + run + "/log"));
    json_of(d.call("GET", "/v1/runs/" + run + "/failures"));

    // A restart neither crashes nor runs the page again.
    REQUIRE(d.stop() == 0);
    d.start();
    d.alive();
    CHECK(std::string(json_of(d.call("GET", "/v1/runs/" + run))["status"].GetString()) == "failed");
}

TEST_CASE("webhook bodies have their own size limit; each record within max-record-bytes") {
    // Webhooks may be larger than other API bodies (1 MiB); records inside them are capped.
    HostileDaemon d({"--max-webhook-bytes", "3000000", "--max-record-bytes", "600000"});
    TempDir files;
    const std::string hook = webhook_into_file(d, files);
    const auto records = [](size_t count, size_t bytes_each) {
        std::string body = "[";
        for (size_t i = 0; i < count; ++i) body += (i ? "," : "") + std::string(R"({"n":")") + std::string(bytes_each, 'x') + "\"}";
        return body + "]";
    };

    CHECK(http_call("POST", hook, records(4, 500'000)).status == 202);  // 2 MB in four records

    const HttpAnswer too_large = http_call("POST", hook, records(8, 500'000));  // 4 MB
    CHECK(too_large.status == 413);
    CHECK(std::string(json_of(too_large)["error"]["message"].GetString()) ==
          "the body (max-webhook-bytes) is larger than 3000000 bytes; send less in one call, or raise "
          "max-webhook-bytes in junctiond's settings");

    CHECK(refusal(http_call("POST", hook, records(2, 700'000))) ==
          "the webhook body has a record of 700008 bytes at /0, more than 600000 (max-record-bytes)");

    // Other routes keep the 1 MiB limit.
    const HttpAnswer flow = d.call("POST", "/v1/flows", R"({"name":")" + std::string(2'000'000, 'f') + R"("})");
    CHECK(flow.status == 413);
    CHECK(std::string(json_of(flow)["error"]["message"].GetString()) == "the request body is larger than 1048576 bytes; send less in one request");
    d.alive();
}
