// Loads the conformance connector into this (g++/libstdc++) host and drives every entry of
// both ABI tables. JUNCTION_CONFORMANCE_PLUGIN picks another build of it (the clang++/libc++
// one); JUNCTION_EXPECT_STDLIB says which C++ library that build must report.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "http_test_server.hpp"
#include "test_paths.hpp"

#include <junction/core/registry/connector_registry.hpp>
#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <cstdlib>
#include <mutex>

using namespace junction::core;
using namespace junction::testing;

namespace {

std::filesystem::path plugin_under_test() {
    const char* env = std::getenv("JUNCTION_CONFORMANCE_PLUGIN");
    return env && *env ? std::filesystem::path(env) : fixture("conformance");
}

const std::string kToken = "tok-9f8e7d6c5b4a";  // must never reach a log line

struct Fixture {
    TempDir dir;
    ConnectorRegistry registry{dir / "store"};
    ConnectorVersionPtr version = registry.load(registry.install(plugin_under_test()).name);
    MemoryInstanceState state;

    std::unique_ptr<ConnectorInstance> make(const std::string& label) {
        return version->create_instance(
            {"inst-" + label, R"({"label":")" + label + R"(","api_token":")" + kToken + R"("})",
             &state, {}, {}});
    }
};

Error call_failure(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected the call to fail");
    return Error(Errc::internal, "unreachable");
}

std::vector<std::string> pages_of(ConnectorInstance& inst, const std::string& op,
                                  const std::string& request, const CallOptions& options = {}) {
    std::vector<std::string> pages;
    inst.invoke(op, request, [&](std::string_view p) { pages.emplace_back(p); }, options);
    return pages;
}

}  // namespace

TEST_CASE("describe: the manifest crosses the ABI and validates") {
    Fixture f;
    const Manifest& m = f.version->manifest();
    CHECK(m.id() == "conformance@1.0.0");
    CHECK(m.operations.size() == 8);
    REQUIRE(m.secret_fields.size() == 1);
    CHECK(m.secret_fields[0] == "api_token");
    CHECK(f.version->plugin_abi().major == JN_ABI_VERSION_MAJOR);
}

TEST_CASE("instance_create, test_connection and instance_destroy") {
    Fixture f;
    auto inst = f.make("uk");
    rapidjson::Document detail;
    detail.Parse(inst->test_connection().c_str());
    REQUIRE(detail.IsObject());
    CHECK(std::string(detail["label"].GetString()) == "uk");
    if (const char* expected = std::getenv("JUNCTION_EXPECT_STDLIB"))
        CHECK(std::string(detail["stdlib"].GetString()) == expected);

    SUBCASE("a plugin's refusal carries its status and message") {
        Error e = call_failure([&] { f.make("refuse"); });
        CHECK(e.code() == Errc::plugin_failed);
        CHECK(e.plugin_status() == JN_ERR_INVALID_CONFIG);
        CHECK(e.message().find("refused on purpose") != std::string::npos);
    }
    SUBCASE("a constructor that throws becomes an internal error, nothing escapes") {
        Error e = call_failure([&] { f.make("throw"); });
        CHECK(e.plugin_status() == JN_ERR_INTERNAL);
        CHECK(e.message().find("constructor threw on purpose") != std::string::npos);
    }
    SUBCASE("the host validates the config against the schema before the plugin sees it") {
        Error e = call_failure([&] {
            f.version->create_instance({"x", R"({"label":"x"})", &f.state, {}, {}});
        });
        CHECK(e.code() == Errc::invalid_argument);
        CHECK(e.message().find("missing required field 'api_token'") != std::string::npos);
    }
}

TEST_CASE("every host service, called from the plugin") {
    Fixture f;
    HttpTestServer server([](const RecordedRequest& r) {
        return CannedResponse{201, {{"X-Echo", r.headers.count("x-token") ? "token-seen" : ""}},
                              "pong"};
    });
    std::vector<std::string> log_lines;
    std::mutex log_mutex;
    set_log_sink([&](std::string_view line) {
        std::lock_guard lock(log_mutex);
        log_lines.emplace_back(line);
    });
    auto inst = f.make("eu");
    const auto pages = pages_of(*inst, "exercise", R"({"url":")" + server.url("/echo") + R"("})");
    set_log_sink(nullptr);

    REQUIRE(pages.size() == 1);
    rapidjson::Document page;
    page.Parse(pages[0].c_str());
    REQUIRE(page.IsArray());
    const auto& r = page[0];
    CHECK(r["state_ok"].GetBool());
    CHECK(r["cancelled"].GetBool() == false);
    CHECK(r["http_status"].GetInt() == 201);
    CHECK(std::string(r["http_body"].GetString()) == "pong");
    CHECK(std::string(r["http_echo_header"].GetString()) == "token-seen");
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    CHECK(std::llabs(r["clock_ms"].GetInt64() - now) < 60'000);

    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].target == "/echo");
    CHECK(requests[0].body == "ping from eu");
    CHECK(requests[0].headers.at("x-token") == kToken);

    bool saw_start = false;
    for (const auto& line : log_lines) {
        if (line.find("[conformance@1.0.0/inst-eu] exercise started for eu") != std::string::npos)
            saw_start = true;
        CHECK(line.find(kToken) == std::string::npos);
    }
    CHECK(saw_start);
}

TEST_CASE("invoke: pages, cancellation, statuses, exceptions, sends") {
    Fixture f;
    auto inst = f.make("us");

    SUBCASE("pages arrive one by one") {
        const auto pages = pages_of(*inst, "pages", R"({"pages":5,"records":3})");
        REQUIRE(pages.size() == 5);
        rapidjson::Document last;
        last.Parse(pages[4].c_str());
        REQUIRE(last.Size() == 3);
        CHECK(last[2]["page"].GetInt() == 4);
        CHECK(last[2]["record"].GetInt() == 2);
    }
    SUBCASE("cancellation stops the plugin between pages") {
        std::atomic<bool> cancel{false};
        size_t seen = 0;
        Error e = call_failure([&] {
            inst->invoke("pages", R"({"pages":100,"records":2})", [&](std::string_view) {
                if (++seen == 2) cancel = true;
            }, CallOptions{&cancel, {}});
        });
        CHECK(e.plugin_status() == JN_ERR_CANCELLED);
        CHECK(seen == 2);
    }
    SUBCASE("a retryable status stays retryable, a permanent one does not") {
        Error rate = call_failure([&] {
            pages_of(*inst, "fail", R"({"status":100,"message":"slow down"})");
        });
        CHECK(rate.plugin_status() == JN_ERR_RATE_LIMITED);
        CHECK(rate.retryable());
        CHECK(rate.message().find("slow down") != std::string::npos);
        Error auth = call_failure([&] {
            pages_of(*inst, "fail", R"({"status":200,"message":"token revoked"})");
        });
        CHECK(auth.plugin_status() == JN_ERR_AUTH);
        CHECK_FALSE(auth.retryable());
    }
    SUBCASE("exceptions never cross the ABI") {
        Error std_ex = call_failure([&] { pages_of(*inst, "throw_std", "{}"); });
        CHECK(std_ex.plugin_status() == JN_ERR_INTERNAL);
        CHECK(std_ex.message().find("throw_std threw on purpose") != std::string::npos);
        Error other = call_failure([&] { pages_of(*inst, "throw_other", "{}"); });
        CHECK(other.plugin_status() == JN_ERR_INTERNAL);
        CHECK(other.message().find("non-standard exception") != std::string::npos);
    }
    SUBCASE("a malformed request is refused by the SDK with a reason") {
        Error e = call_failure([&] { pages_of(*inst, "pages", "{oops"); });
        CHECK(e.plugin_status() == JN_ERR_INVALID_REQUEST);
        CHECK(e.message().find("not valid JSON") != std::string::npos);
    }
    SUBCASE("an operation the manifest does not name is refused by the host") {
        Error e = call_failure([&] { pages_of(*inst, "nope", "{}"); });
        CHECK(e.code() == Errc::not_found);
    }
    SUBCASE("a send takes records and emits one result page") {
        const auto pages = pages_of(*inst, "echo", R"({"records":[{"a":1},{"a":2}]})");
        REQUIRE(pages.size() == 1);
        CHECK(pages[0] == R"([{"index":0,"status":"ok","record":{"a":1}},{"index":1,"status":"ok","record":{"a":2}}])");
    }
    SUBCASE("a sink that throws stops the call and the host says why") {
        Error e = call_failure([&] {
            inst->invoke("pages", R"({"pages":3,"records":1})",
                         [](std::string_view) { throw std::runtime_error("sink full"); });
        });
        CHECK(e.code() == Errc::internal);
        CHECK(e.message().find("sink full") != std::string::npos);
    }
}

TEST_CASE("the library unloads when the registry and the last instance let go") {
    std::filesystem::path file;
    {
        Fixture f;
        auto inst = f.make("gone");
        file = f.version->file();
        CHECK(is_mapped(file));
        f.version.reset();
        f.registry.uninstall("conformance");
        CHECK(is_mapped(file));  // the instance still holds its lease
        CHECK(inst->test_connection().find("gone") != std::string::npos);
        inst.reset();
    }
    CHECK_FALSE(is_mapped(file));
}
