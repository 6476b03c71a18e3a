// ABI 1.3's http_request_batch, driven by the conformance connector in both isolation modes:
// every request performed with the instance's credentials, each outcome delivered once and
// in order (answers, refused URLs, failed connections), across the batch limit and across
// batches larger than one write to the connector's process; ABI 1.5's start_after_ms.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "embedded_host.hpp"
#include "http_test_server.hpp"
#include "in_flight_server.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

using namespace junction::core;
using namespace junction::testing;

namespace {

const std::string kToken = "tok-batch-5e4d3c2b";

struct Host : EmbeddedHost {
    explicit Host(Isolation isolation) : EmbeddedHost(4, isolation) {
        install(fixture("conformance"));
        service.create({"conformance", "store", "", R"({"label":"store","api_token":")" + kToken + R"("})", ""});
    }

    // Runs the batch operation and returns its one page of results.
    // The batch operation's pages: none when the call was cancelled before it emitted.
    // `more`: further members of the request ("spacing_ms":60).
    std::vector<std::string> pages(const std::vector<std::string>& urls, size_t pad = 0, const std::string& more = "",
                                   const CallOptions& options = {}) {
        std::string request = R"({"pad":)" + std::to_string(pad) + (more.empty() ? "" : "," + more) + R"(,"urls":[)";
        for (size_t i = 0; i < urls.size(); ++i) request += (i ? ",\"" : "\"") + urls[i] + "\"";
        request += "]}";
        std::vector<std::string> out;
        auto live = runtime.acquire("store");
        live->plugin->invoke("batch", request, [&](std::string_view page) { out.emplace_back(page); }, options);
        return out;
    }

    rapidjson::Document batch(const std::vector<std::string>& urls, size_t pad = 0, const std::string& more = "",
                              const CallOptions& options = {}) {
        const auto pages = this->pages(urls, pad, more, options);
        REQUIRE(pages.size() == 1);
        rapidjson::Document doc;
        doc.Parse(pages[0].c_str());
        REQUIRE(doc.IsArray());
        return doc;
    }
};

// Answers "got <index>" for /ok/..., 503 for /busy.
HttpTestServer make_server() {
    return HttpTestServer([](const RecordedRequest& r) {
        if (r.target == "/busy") return CannedResponse{503, {}, "busy"};
        return CannedResponse{200, {}, "got " + r.body.substr(0, r.body.find('.'))};
    });
}

void outcomes_in_order(Isolation isolation) {
    Host h(isolation);
    auto server = make_server();
    // A port nothing listens on: the connection fails.
    const std::string closed = "http://127.0.0.1:1/nothing";
    std::vector<std::string> urls;
    for (int i = 0; i < 12; ++i)
        urls.push_back(i == 3 ? "ftp://example.invalid/x" : i == 7 ? closed : i == 9 ? server.url("/busy")
                                                                             : server.url("/ok/" + std::to_string(i)));
    const auto results = h.batch(urls);
    REQUIRE(results.Size() == urls.size());
    for (rapidjson::SizeType i = 0; i < results.Size(); ++i) {
        CAPTURE(i);
        const auto& r = results[i];
        CHECK(r["index"].GetUint() == i);
        if (i == 3) {
            CHECK(r["status"].GetInt() == JN_ERR_INVALID_REQUEST);
        } else if (i == 7) {
            CHECK(r["status"].GetInt() == JN_ERR_TRANSIENT);
        } else if (i == 9) {
            CHECK(r["status"].GetInt() == JN_OK);
            CHECK(r["http_status"].GetInt() == 503);
        } else {
            CHECK(r["status"].GetInt() == JN_OK);
            CHECK(r["http_status"].GetInt() == 200);
            CHECK(std::string(r["body"].GetString()) == "got " + std::to_string(i));
        }
    }
    // Every request that could go out went out once, with this instance's credentials.
    const auto requests = server.requests();
    CHECK(requests.size() == 10);
    std::set<std::string> bodies;
    for (const auto& r : requests) {
        CHECK(r.headers.at("x-token") == kToken);
        bodies.insert(r.body);
    }
    CHECK(bodies.size() == 10);
}

void large_batches(Isolation isolation) {
    Host h(isolation);
    auto server = make_server();
    SUBCASE("more requests than one batch takes: the SDK splits them") {
        std::vector<std::string> urls;
        for (int i = 0; i < JN_HTTP_BATCH_MAX + 44; ++i) urls.push_back(server.url("/ok/" + std::to_string(i)));
        const auto results = h.batch(urls);
        REQUIRE(results.Size() == urls.size());
        for (rapidjson::SizeType i = 0; i < results.Size(); ++i)
            CHECK(std::string(results[i]["body"].GetString()) == "got " + std::to_string(i));
        CHECK(server.requests().size() == urls.size());
    }
    SUBCASE("bodies larger than one write to the connector process: sent in several") {
        std::vector<std::string> urls;
        for (int i = 0; i < 40; ++i) urls.push_back(server.url("/ok/" + std::to_string(i)));
        const auto results = h.batch(urls, 20'000);  // 800 KB in all
        REQUIRE(results.Size() == urls.size());
        for (rapidjson::SizeType i = 0; i < results.Size(); ++i) {
            CHECK(results[i]["status"].GetInt() == JN_OK);
            CHECK(std::string(results[i]["body"].GetString()) == "got " + std::to_string(i));
        }
        for (const auto& r : server.requests()) CHECK(r.body.size() > 20'000);
    }
}

void requests_in_flight(Isolation isolation) {
    Host h(isolation);
    InFlightServer s;
    SUBCASE("without request slots, one at a time") {
        const auto results = h.batch(s.urls(8));
        REQUIRE(results.Size() == 8);
        CHECK(s.most.load() == 1);
    }
    SUBCASE("with slots, at once, never more than the slots, answers still in order") {
        RequestSlots slots(5);
        CallOptions options;
        options.request_slots = &slots;
        const auto results = h.batch(s.urls(30), 0, "", options);
        REQUIRE(results.Size() == 30);
        for (rapidjson::SizeType i = 0; i < results.Size(); ++i)
            CHECK(std::string(results[i]["body"].GetString()) == "got " + std::to_string(i));
        CHECK(s.most.load() <= 5);
        CHECK(s.most.load() > 1);
    }
    SUBCASE("calls on three threads sharing four slots: four in flight at most") {
        RequestSlots slots(4);
        CallOptions options;
        options.request_slots = &slots;
        std::vector<std::thread> callers;
        std::atomic<int> answered{0};
        for (int t = 0; t < 3; ++t)
            callers.emplace_back([&] {
                const auto results = h.batch(s.urls(12), 0, "", options);
                for (const auto& r : results.GetArray()) answered += r["http_status"].GetInt() == 200;
            });
        for (auto& t : callers) t.join();
        CHECK(answered.load() == 36);
        CHECK(s.most.load() <= 4);
        CHECK(s.most.load() > 1);
    }
    SUBCASE("a cancel stops the batch: the requests not started are cancelled") {
        RequestSlots slots(2);
        std::atomic<bool> cancelled{false};
        CallOptions options;
        options.request_slots = &slots;
        options.cancelled = &cancelled;
        std::thread canceller([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            cancelled = true;
        });
        std::vector<std::string> pages;
        try {
            pages = h.pages(s.urls(100), 0, "", options);
        } catch (const Error&) {
            // The connector may give up on the whole call once it sees the cancel.
        }
        canceller.join();
        // 100 requests at 2 x 30 ms take 1.5 s: the cancel came before the last went out.
        CHECK(s.server.requests().size() < 100);
        if (pages.size() == 1) {  // a page emitted after the cancel is not taken: usually none
            rapidjson::Document results;
            results.Parse(pages[0].c_str());
            REQUIRE(results.IsArray());
            REQUIRE(results.Size() == 100);
            CHECK(results[99]["status"].GetInt() == JN_ERR_CANCELLED);
        }
        CHECK(slots.try_acquire());  // every slot was given back
        CHECK(slots.try_acquire());
    }
}

void spaced_starts(Isolation isolation) {
    Host h(isolation);
    SUBCASE("no request starts before its start_after_ms, and the spaced ones overlap") {
        InFlightServer s(300);
        RequestSlots slots(4);
        CallOptions options;
        options.request_slots = &slots;
        const auto called = std::chrono::steady_clock::now();
        const auto results = h.batch(s.urls(6), 0, R"("spacing_ms":60)", options);
        REQUIRE(results.Size() == 6);
        for (rapidjson::SizeType i = 0; i < results.Size(); ++i) CHECK(results[i]["http_status"].GetInt() == 200);
        std::map<int, std::chrono::steady_clock::time_point> arrived;  // by the index in the body
        for (const auto& a : s.arrivals()) arrived[std::stoi(a.body)] = a.at;
        REQUIRE(arrived.size() == 6);
        for (int i = 0; i < 6; ++i) {
            CAPTURE(i);
            // The host only ever starts later than asked, whatever the machine's load.
            CHECK(arrived[i] - called >= std::chrono::milliseconds(60 * i));
        }
        // Spaced 60 ms apart and held 300 ms each: not one at a time, never past the slots.
        CHECK(s.most.load() > 1);
        CHECK(s.most.load() <= 4);
    }
    SUBCASE("bodies larger than one write to a connector process: each piece keeps the turns") {
        InFlightServer s(0);
        RequestSlots slots(4);
        CallOptions options;
        options.request_slots = &slots;
        const auto called = std::chrono::steady_clock::now();
        const auto results = h.batch(s.urls(12), 20'000, R"("spacing_ms":40)", options);  // 240 KB
        REQUIRE(results.Size() == 12);
        std::map<int, std::chrono::steady_clock::time_point> arrived;
        for (const auto& a : s.arrivals()) arrived[std::stoi(a.body)] = a.at;
        REQUIRE(arrived.size() == 12);
        for (int i = 0; i < 12; ++i) {
            CAPTURE(i);
            CHECK(arrived[i] - called >= std::chrono::milliseconds(40 * i));
        }
    }
    SUBCASE("a cancel ends the wait: the requests not yet due are cancelled, not sent") {
        InFlightServer s(0);
        std::atomic<bool> cancelled{false};
        RequestSlots slots(4);
        CallOptions options;
        options.request_slots = &slots;
        options.cancelled = &cancelled;
        std::thread canceller([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            cancelled = true;
        });
        std::vector<std::string> pages;
        const auto called = std::chrono::steady_clock::now();
        try {
            pages = h.pages(s.urls(5), 0, R"("spacing_ms":10000)", options);
        } catch (const Error&) {
            // The connector may give up on the whole call once it sees the cancel.
        }
        canceller.join();
        // Not after the 40 s the starts asked for: the cancel ended the wait.
        CHECK(std::chrono::steady_clock::now() - called < std::chrono::seconds(20));
        CHECK(s.server.requests().size() == 1);  // the first, due at once
        if (pages.size() == 1) {
            rapidjson::Document results;
            results.Parse(pages[0].c_str());
            REQUIRE(results.IsArray());
            REQUIRE(results.Size() == 5);
            CHECK(results[4]["status"].GetInt() == JN_ERR_CANCELLED);
        }
    }
}

}  // namespace

TEST_CASE("requests in flight follow the caller's slots, in a connector process") {
    requests_in_flight(Isolation::process);
}

TEST_CASE("requests in flight follow the caller's slots, in process") { requests_in_flight(Isolation::in_process); }

TEST_CASE("a batch's outcomes come back once each, in order, in a connector process") {
    outcomes_in_order(Isolation::process);
}

TEST_CASE("a batch's outcomes come back once each, in order, in process") {
    outcomes_in_order(Isolation::in_process);
}

TEST_CASE("large batches in a connector process") { large_batches(Isolation::process); }

TEST_CASE("large batches in process") { large_batches(Isolation::in_process); }

TEST_CASE("requests spaced by start_after_ms (ABI 1.5), in a connector process") { spaced_starts(Isolation::process); }

TEST_CASE("requests spaced by start_after_ms (ABI 1.5), in process") { spaced_starts(Isolation::in_process); }
