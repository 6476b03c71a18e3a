// The SDK's helpers for the parts every connector writes (issue 18): URL encoding, the HTTP
// status a failed answer is, the API's message, Retry-After, backoff, retries (against a
// host table that answers from a script, as a host would), and send results.
#include <doctest/doctest.h>

#include <junction/sdk/cursor.hpp>
#include <junction/sdk/http_status.hpp>
#include <junction/sdk/paging.hpp>
#include <junction/sdk/retry.hpp>
#include <junction/sdk/send_results.hpp>
#include <junction/sdk/url.hpp>

#include <chrono>
#include <ctime>
#include <deque>
#include <vector>

namespace sdk = junction::sdk;

namespace {

// The answers a host hands the connector, one per request, and what it was asked.
struct ScriptedHost {
    struct Answer {
        jn_status status = JN_OK;  // not JN_OK: no response (a dropped connection)
        int http = 200;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
    };
    std::deque<Answer> answers;
    std::vector<std::string> urls;
    std::vector<std::string> emitted;
    bool cancelled = false;
};
ScriptedHost* scripted = nullptr;

sdk::Call scripted_call(ScriptedHost& host) {
    scripted = &host;
    auto& api = sdk::detail::host_api();
    api.http_request = [](jn_call*, const jn_http_request* request, jn_http_response_fn on_response, void* user) {
        scripted->urls.emplace_back(request->url.ptr, request->url.len);
        REQUIRE(!scripted->answers.empty());
        const ScriptedHost::Answer a = scripted->answers.front();
        scripted->answers.pop_front();
        if (a.status != JN_OK) return a.status;
        std::vector<jn_http_header> headers;
        for (const auto& [k, v] : a.headers) headers.push_back({sdk::view(k), sdk::view(v)});
        jn_http_response response{};
        response.struct_size = sizeof response;
        response.status_code = static_cast<uint32_t>(a.http);
        response.headers = headers.data();
        response.header_count = headers.size();
        response.body = sdk::view(a.body);
        on_response(user, &response);
        return JN_OK;
    };
    api.is_cancelled = [](jn_call*) -> uint32_t { return scripted->cancelled ? 1 : 0; };
    api.emit = [](jn_call*, jn_str json) -> jn_status {
        scripted->emitted.emplace_back(json.ptr, json.len);
        return JN_OK;
    };
    return sdk::Call(nullptr);
}

sdk::RetryPolicy quick() {
    sdk::RetryPolicy p;
    p.initial_backoff_ms = 1;
    p.max_backoff_ms = 5;
    return p;
}

}  // namespace

TEST_CASE("sdk::Url encodes every segment and query value, so none can change the request") {
    CHECK(sdk::url_encode("a b/c?d=e&f#g~h.i_j-k") == "a%20b%2Fc%3Fd%3De%26f%23g~h.i_j-k");
    CHECK(sdk::url_encode(std::string("\xC3\xA9\0x\0", 5)) == "%C3%A9%00x%00");
    CHECK(sdk::Url("https://api.example/v2/").path("tickets").path("../admin").query("q", "a&b=c").query("page", "2").str() ==
          "https://api.example/v2/tickets/..%2Fadmin?q=a%26b%3Dc&page=2");
    CHECK(sdk::Url("https://api.example").path("items").path("..").path(".").str() == "https://api.example/items/%2E%2E/%2E");
    CHECK(sdk::form_encode({{"grant type", "x"}, {"k", "é"}}) == "grant%20type=x&k=%C3%A9");
}

TEST_CASE("sdk::status_for_http and http_error: the right ABI status and the API's own words") {
    CHECK(sdk::status_for_http(401) == JN_ERR_AUTH);
    CHECK(sdk::status_for_http(404) == JN_ERR_NOT_FOUND);
    CHECK(sdk::status_for_http(429) == JN_ERR_RATE_LIMITED);
    CHECK(sdk::status_for_http(503) == JN_ERR_TRANSIENT);
    CHECK(sdk::status_for_http(422) == JN_ERR_INVALID_REQUEST);
    CHECK(sdk::api_message(R"({"error": {"message": "email is taken", "code": 7}})") == "email is taken");
    CHECK(sdk::api_message(R"({"errors": [], "detail": "no such field"})") == "no such field");
    CHECK(sdk::api_message("<html>\nBad gateway</html>") == "<html> Bad gateway</html>");
    CHECK(sdk::api_message(std::string(1000, 'x')).size() == 303);
    sdk::HttpResponse r;
    r.status = 422;
    r.body = R"({"message": "subject is required"})";
    const sdk::Error e = sdk::http_error(r, "creating a ticket");
    CHECK(e.status() == JN_ERR_INVALID_REQUEST);
    CHECK(std::string(e.what()) == "creating a ticket: HTTP 422: subject is required");
    CHECK_FALSE(e.retryable());
}

TEST_CASE("sdk::retry_after_ms reads seconds and HTTP dates; backoff has full jitter under its ceiling") {
    sdk::HttpResponse r;
    CHECK(sdk::retry_after_ms(r) == -1);
    r.headers = {{"retry-after", "7"}};
    CHECK(sdk::retry_after_ms(r) == 7000);
    r.headers = {{"Retry-After", "soon"}};
    CHECK(sdk::retry_after_ms(r) == -1);
    r.headers = {{"Retry-After", "-3"}};
    CHECK(sdk::retry_after_ms(r) == -1);
    const std::time_t in_a_minute = std::time(nullptr) + 60;
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&in_a_minute));
    r.headers = {{"Retry-After", date}};
    CHECK(sdk::retry_after_ms(r) > 50'000);
    CHECK(sdk::retry_after_ms(r) <= 60'000);
    r.headers = {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}};
    CHECK(sdk::retry_after_ms(r) == 0);

    sdk::RetryPolicy p;
    p.initial_backoff_ms = 100;
    p.max_backoff_ms = 1000;
    int64_t largest = 0;
    for (int i = 0; i < 200; ++i) {
        const int64_t first = sdk::backoff_ms(p, 1), tenth = sdk::backoff_ms(p, 10);
        CHECK(first >= 0);
        CHECK(first <= 100);
        CHECK(tenth <= 1000);
        largest = std::max(largest, tenth);
    }
    CHECK(largest > 100);  // it grows, and is random below its ceiling
}

TEST_CASE("sdk::send_with_retries: 429 and 503 tried again, Retry-After honoured, a 4xx not, cancellation ends the wait") {
    ScriptedHost host;
    const sdk::Call call = scripted_call(host);
    sdk::HttpRequest request;
    request.url = "https://api.example/items";

    host.answers = {{JN_OK, 429, {{"Retry-After", "0"}}, ""}, {JN_ERR_TRANSIENT, 0, {}, ""}, {JN_OK, 503, {}, ""},
                    {JN_OK, 200, {}, "[]"}};
    CHECK(sdk::send_with_retries(call, request, quick()).status == 200);
    CHECK(host.urls.size() == 4);

    host.answers = {{JN_OK, 422, {}, R"({"message":"bad"})"}};
    CHECK(sdk::send_with_retries(call, request, quick()).status == 422);  // the caller's to report

    host.answers = {{JN_OK, 503, {}, ""}, {JN_OK, 503, {}, ""}, {JN_OK, 503, {}, ""}, {JN_OK, 503, {}, "down"}};
    CHECK(sdk::send_with_retries(call, request, quick()).body == "down");  // the last of 4 attempts
    CHECK(host.answers.empty());

    host.answers = {{JN_ERR_TIMEOUT, 0, {}, ""}, {JN_ERR_TIMEOUT, 0, {}, ""}, {JN_ERR_TIMEOUT, 0, {}, ""},
                    {JN_ERR_TIMEOUT, 0, {}, ""}};
    CHECK_THROWS_WITH_AS(sdk::send_with_retries(call, request, quick()), doctest::Contains("no complete response"),
                         sdk::Error);

    // A POST is tried again only when the server says it did nothing: a 429, not a 503 or a timeout.
    request.method = "POST";
    host.answers = {{JN_OK, 429, {}, ""}, {JN_OK, 201, {}, R"({"id":1})"}};
    CHECK(sdk::send_with_retries(call, request, quick()).status == 201);
    host.answers = {{JN_OK, 503, {}, ""}, {JN_OK, 201, {}, ""}};
    CHECK(sdk::send_with_retries(call, request, quick()).status == 503);
    host.answers.clear();
    host.answers = {{JN_ERR_TIMEOUT, 0, {}, ""}, {JN_OK, 201, {}, ""}};
    CHECK_THROWS_AS(sdk::send_with_retries(call, request, quick()), sdk::Error);
    host.answers.clear();
    request.method = "GET";

    // A server asking for longer than the policy allows is not waited for.
    host.answers = {{JN_OK, 429, {{"Retry-After", "3600"}}, ""}};
    CHECK(sdk::send_with_retries(call, request, quick()).status == 429);

    // The host cancels the call while it waits: it ends at once.
    host.answers = {{JN_OK, 429, {{"Retry-After", "20"}}, ""}};
    host.cancelled = true;
    const auto before = std::chrono::steady_clock::now();
    try {
        sdk::send_with_retries(call, request, quick());
        FAIL("a cancelled wait returned");
    } catch (const sdk::Error& e) {
        CHECK(e.status() == JN_ERR_CANCELLED);
    }
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10));
    host.cancelled = false;
}

TEST_CASE("sdk::SendResults: one result per record, the created object passed on, a gap refused") {
    ScriptedHost host;
    const sdk::Call call = scripted_call(host);
    sdk::SendResults results(3);
    results.ok(0);
    results.ok(2, R"({"id": 42, "name": "x"})");
    CHECK_THROWS_WITH_AS(results.emit(call), doctest::Contains("no result for record 1"), sdk::Error);
    sdk::HttpResponse refused;
    refused.status = 422;
    refused.body = R"({"message": "email \"x\" is taken"})";
    results.rejected(1, refused);
    results.emit(call);
    REQUIRE(host.emitted.size() == 1);
    CHECK(host.emitted[0] ==
          R"([{"index":0,"status":"ok"},{"index":1,"status":"rejected","http_status":422,"error":"email \"x\" is taken"},)"
          R"({"index":2,"status":"ok","record":{"id":42,"name":"x"}}])");
    CHECK_THROWS_AS(results.ok(3), sdk::Error);
    results.ok(0, "[1]");  // not an object: the record as sent goes on, the created record stays ok
    results.ok(2, "{not json");
    results.emit(call);
    CHECK(host.emitted.back().find(R"({"index":2,"status":"ok"})") != std::string::npos);

    sdk::SendResults partial(3);
    partial.ok(0);
    partial.reject_the_rest("not sent: the API stopped answering after record 0");
    partial.emit(call);
    CHECK(host.emitted.back().find(R"({"index":2,"status":"rejected","error":"not sent)") != std::string::npos);
}

TEST_CASE("sdk::compare_cursor orders numbers, instants and text as the host does; NewestCursor keeps the newest") {
    CHECK(sdk::compare_cursor("9", "10") < 0);  // numerically, not as text
    CHECK(sdk::compare_cursor("2.5", "2.50") == 0);
    CHECK(sdk::compare_cursor("2026-01-01T10:00:00Z", "2026-01-01T09:30:00-02:00") < 0);  // by instant
    CHECK(sdk::compare_cursor("2026-01-01", "2026-01-01T00:00:00Z") == 0);
    CHECK(sdk::compare_cursor("2026-01-01 10:00:00.250+0100", "2026-01-01T09:00:00.25Z") == 0);
    CHECK(sdk::compare_cursor("2026-01-01T10:00", "2026-01-01T10:00:01Z") < 0);
    CHECK(sdk::compare_cursor("b", "a") > 0);
    CHECK(sdk::compare_cursor("0x10", "9") < 0);  // not a number as JSON writes one: bytes
    CHECK(sdk::compare_cursor("2024-9-30T9:05:00Z", "2024-10-01T00:00:00Z") < 0);  // one-digit fields
    CHECK(sdk::compare_cursor("1e3", "999.5") > 0);
    CHECK_FALSE(sdk::cursor_instant_ms("2026-02-30"));  // no such day
    CHECK(sdk::cursor_instant_ms("2024-02-29"));
    CHECK(sdk::cursor_instant_ms("2026-01-05T10:30:15+05") == *sdk::cursor_instant_ms("2026-01-05T05:30:15Z"));
    CHECK_FALSE(sdk::cursor_instant_ms("2026-13-01"));
    CHECK_FALSE(sdk::cursor_instant_ms("2026-01-01T10:00:00Q"));
    CHECK(sdk::cursor_instant_ms("1970-01-02") == 86'400'000);

    sdk::NewestCursor newest("updated_at", "2026-01-01T00:00:00Z");
    const auto records = sdk::parse_json(
        R"([{"updated_at": "2026-01-02T00:00:00Z"}, {"updated_at": "2026-01-01T12:00:00Z"}, {"id": 3},
            {"updated_at": "2026-01-02T01:00:00+02:00"}])", "test records");
    CHECK(newest.see(records[0]));
    CHECK_FALSE(newest.see(records[1]));  // older
    CHECK_FALSE(newest.see(records[2]));  // none
    CHECK_FALSE(newest.see(records[3]));  // 23:00Z the day before the newest
    CHECK(newest.value() == "2026-01-02T00:00:00Z");
    sdk::NewestCursor nested("/meta/version");
    CHECK(nested.see(sdk::parse_json(R"({"meta": {"version": 7}})", "a record")));
    CHECK(nested.value() == "7");
}

TEST_CASE("sdk::read_pages emits one page per API page, stops at the end, and on cancellation") {
    ScriptedHost host;
    const sdk::Call call = scripted_call(host);
    std::vector<std::string> asked;
    sdk::NewestCursor newest("n");
    const size_t total = sdk::read_pages(call, "1", [&](const std::string& page) {
        asked.push_back(page);
        const int p = std::stoi(page);
        std::string items;
        for (int i = 0; i < (p < 3 ? 2 : 1); ++i) items += (i ? "," : "") + std::string(R"({"n":)") + std::to_string(p * 10 + i) + "}";
        sdk::ApiPage out{sdk::parse_json("[" + items + "]", "a page"), std::nullopt};
        out.next = sdk::next_page_number(page, out.records.Size(), 2);
        return out;
    }, &newest);
    CHECK(total == 5);
    CHECK(asked == std::vector<std::string>{"1", "2", "3"});
    REQUIRE(host.emitted.size() == 3);
    CHECK(host.emitted[2] == R"([{"n":30}])");
    CHECK(newest.value() == "30");

    // An API that names the page it came from again does not loop.
    CHECK(sdk::read_pages(call, "x", [](const std::string&) {
              return sdk::ApiPage{sdk::parse_json(R"([{"a":1}])", "a page"), std::string("x")};
          }) == 1);
    host.cancelled = true;
    CHECK_THROWS_AS(sdk::read_pages(call, "1", [](const std::string&) { return sdk::ApiPage{}; }), sdk::Error);
    host.cancelled = false;

    sdk::HttpResponse linked;
    linked.headers = {{"Link", R"(<https://x.example/o?page_info=p1>; rel="previous", <https://x.example/o?page_info=p3>; rel="next")"}};
    CHECK(sdk::next_link(linked) == "https://x.example/o?page_info=p3");
    linked.headers = {{"Link", R"(<https://x.example/o?page_info=p1>; rel="previous")"}};
    CHECK_FALSE(sdk::next_link(linked));
    CHECK(sdk::next_offset("200", 100, 100) == "300");
    CHECK_FALSE(sdk::next_offset("200", 40, 100));
}

namespace {

// A host table with only http_request_batch: notes when each request was handed over and
// the start_after_ms it carried, and answers 200 at once.
struct BatchHost {
    std::vector<std::chrono::steady_clock::time_point> handed;
    std::vector<uint32_t> after_ms;
    std::vector<int> crossing;  // which call of http_request_batch it came in
    int crossings = 0;
};
BatchHost* batch_host = nullptr;

sdk::Call batch_call(BatchHost& host, uint32_t host_minor) {
    batch_host = &host;
    auto& api = sdk::detail::host_api();
    api = jn_host_api{};
    sdk::detail::host_abi_minor() = host_minor;
    api.is_cancelled = [](jn_call*) -> uint32_t { return 0; };
    api.http_request_batch = [](jn_call*, const jn_http_request* const* requests, size_t count,
                                jn_http_result_fn on_result, void* user) -> jn_status {
        ++batch_host->crossings;
        for (size_t i = 0; i < count; ++i) {
            batch_host->handed.push_back(std::chrono::steady_clock::now());
            batch_host->after_ms.push_back(requests[i]->start_after_ms);
            batch_host->crossing.push_back(batch_host->crossings);
        }
        for (size_t i = 0; i < count; ++i) {
            jn_http_response response{};
            response.struct_size = sizeof response;
            response.status_code = 200;
            on_result(user, i, JN_OK, &response);
        }
        return JN_OK;
    };
    return sdk::Call(nullptr);
}

std::vector<sdk::HttpRequest> spaced(std::initializer_list<uint32_t> turns) {
    std::vector<sdk::HttpRequest> out;
    for (const uint32_t t : turns) {
        sdk::HttpRequest r;
        r.url = "http://127.0.0.1:1/x";
        r.start_after_ms = t;
        out.push_back(r);
    }
    return out;
}

}  // namespace

TEST_CASE("sdk::Call::http_batch with start_after_ms: a 1.5 host gets the turns, an older one gets the waits") {
    BatchHost host;
    size_t answered = 0;
    const auto count = [&](size_t, sdk::Call::HttpResult& r) { answered += r.status == JN_OK; };
    SUBCASE("a 1.5 host: one batch, each request with its turn") {
        batch_call(host, 5).http_batch(spaced({0, 0, 40, 80}), count);
        CHECK(host.crossings == 1);
        CHECK(host.after_ms == std::vector<uint32_t>{0, 0, 40, 80});
    }
    SUBCASE("an older host: groups of the same turn, each handed over no sooner than its turn after the last") {
        const auto called = std::chrono::steady_clock::now();
        batch_call(host, 4).http_batch(spaced({0, 0, 40, 80, 80, 150}), count);
        REQUIRE(host.handed.size() == 6);
        CHECK(host.crossing == std::vector<int>{1, 1, 2, 3, 3, 4});
        CHECK(host.after_ms == std::vector<uint32_t>(6, 0));  // waited for here: none left to the host
        CHECK(host.handed[2] - called >= std::chrono::milliseconds(40));
        CHECK(host.handed[3] - host.handed[2] >= std::chrono::milliseconds(40));
        CHECK(host.handed[5] - host.handed[4] >= std::chrono::milliseconds(70));
    }
    SUBCASE("more than one batch takes, on a 1.5 host: the second counts from the first's last turn") {
        std::vector<sdk::HttpRequest> many;
        for (uint32_t i = 0; i < JN_HTTP_BATCH_MAX + 2; ++i) many.push_back(spaced({i * 10}).front());
        batch_call(host, 5).http_batch(many, count);
        REQUIRE(host.after_ms.size() == many.size());
        CHECK(host.after_ms[JN_HTTP_BATCH_MAX - 1] == (JN_HTTP_BATCH_MAX - 1) * 10);
        CHECK(host.after_ms[JN_HTTP_BATCH_MAX] == 10);  // one turn after the last it sent
        CHECK(host.after_ms[JN_HTTP_BATCH_MAX + 1] == 20);
    }
    CHECK(answered == host.handed.size());
    sdk::detail::host_api() = jn_host_api{};
    sdk::detail::host_abi_minor() = 0;
}
