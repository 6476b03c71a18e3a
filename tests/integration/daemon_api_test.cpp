// The admin API's published description (host/junctiond/api/openapi.json) against the
// daemon itself: the routes it serves are exactly the documented ones, it serves the same
// document at /v1/openapi.json, and every documented route is answered by a handler (not
// by the router's 404 or 405), with the admin token required everywhere but the public ones.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"

#include <rapidjson/document.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace junction::testing;

namespace {

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    REQUIRE(!d.HasParseError());
    return d;
}

// "GET /v1/things/{name}" for every operation in the document.
std::set<std::string> documented(const rapidjson::Document& openapi) {
    std::set<std::string> out;
    for (const auto& path : openapi["paths"].GetObject())
        for (const auto& op : path.value.GetObject()) {
            std::string method = op.name.GetString();
            for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            out.insert(method + " " + path.name.GetString());
        }
    return out;
}

}  // namespace

TEST_CASE("the daemon serves exactly the routes its OpenAPI document describes") {
    const auto openapi = parse(read_text(JUNCTION_OPENAPI_FILE));
    const auto described = documented(openapi);

    TempDir dir;
    const RunResult printed = run_program({(bin_dir() / "junctiond").string(), "--state-dir", (dir / "state").string(),
                                           "--plugin-dir", dir.path().string(), "--print-routes"});
    REQUIRE(printed.exit_code == 0);
    std::set<std::string> served;
    std::istringstream lines(printed.output);
    for (std::string line; std::getline(lines, line);)
        if (std::regex_match(line, std::regex(R"((GET|POST|PUT|PATCH|DELETE) /\S*)"))) served.insert(line);
    for (const auto& r : served) CHECK_MESSAGE(described.count(r), "served but not in openapi.json: " << r);
    for (const auto& r : described) CHECK_MESSAGE(served.count(r), "in openapi.json but not served: " << r);
    CHECK(served.size() > 30);

    JunctiondProcess d({});
    const HttpAnswer doc = d.call("GET", "/v1/openapi.json");
    REQUIRE(doc.status == 200);
    CHECK(parse(doc.body) == openapi);

    for (const auto& route : described) {
        const std::string method = route.substr(0, route.find(' '));
        const std::string path = std::regex_replace(route.substr(route.find(' ') + 1), std::regex(R"(\{[a-z_]+\})"), "x");
        const bool is_public = path == "/healthz" || path == "/readyz" || path.rfind("/hooks/", 0) == 0;
        const HttpAnswer a = d.call(method, path, method == "GET" || method == "DELETE" ? "" : "{}");
        INFO(route << " -> " << a.status << " " << a.body);
        CHECK(a.status != 405);
        CHECK(a.body.find("no such endpoint") == std::string::npos);
        CHECK(a.status < 500);
        if (!is_public) {
            const HttpAnswer anonymous = http_call(method, d.url() + path);
            CHECK(anonymous.status == 401);
        }
    }
}
