// A regex filter against hostile input on a real daemon: a 100 KB value once overflowed
// std::regex's stack and the resumed run killed the daemon at every start. With RE2 the run
// completes, and a pattern RE2 refuses is refused when the flow is saved, at its JSON path.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "flow_test_daemon.hpp"

#include <fstream>

using namespace junction::testing;
namespace fs = std::filesystem;

namespace {

std::vector<int64_t> ids_in(const fs::path& file) {
    std::vector<int64_t> ids;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        REQUIRE(d.IsObject());
        ids.push_back(d["id"].GetInt64());
    }
    return ids;
}

std::string regex_flow(const std::string& name, const std::string& pattern_json) {
    return R"({"name": ")" + name + R"(", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": "source", "endpoint": "records.receive", "direction": "receive", "next": "ours"},
      {"id": "ours", "type": "filter", "condition": {"field": "/email", "op": "regex", "value": )" + pattern_json + R"(}, "next": "out"},
      {"id": "out", "type": "connection", "instance": "sink", "endpoint": "records.send", "direction": "send"}]})";
}

}  // namespace

TEST_CASE("a regex filter over a 100 KB value runs to completion and the daemon lives") {
    TempDir dir;
    const std::string long_local(100 * 1024, 'a');
    {
        std::ofstream f(dir / "in.jsonl");
        f << R"({"id":1,"email":")" << long_local << "@example.com\"}\n";  // matches
        f << R"({"id":2,"email":")" << long_local << "@example.org\"}\n";  // 100 KB, no match
        f << R"({"id":3,"email":"ada@example.com"})" << "\n";
        f << R"({"id":4,"email":"no-at-sign.example.com"})" << "\n";
    }
    Daemon d;
    d.add_instance("jsonl", "source", R"({"path":)" + json_text((dir / "in.jsonl").string()) + "}");
    d.add_instance("jsonl", "sink", R"({"path":)" + json_text((dir / "out.jsonl").string()) + "}");
    d.save_flow(regex_flow("emails", R"("^[^@]+@example\\.com$")"));

    const auto run = d.wait_run(d.start_run("emails"));
    CHECK(std::string(run["status"].GetString()) == "completed");
    CHECK(count(run, "ours", "in") == 4);
    CHECK(ids_in(dir / "out.jsonl") == std::vector<int64_t>{1, 3});
    CHECK(http_call("GET", d.url() + "/healthz").status == 200);
    CHECK(d.call("GET", "/v1/flows").status == 200);
}

TEST_CASE("a pattern RE2 refuses is refused at save with its JSON path and RE2's reason") {
    Daemon d;
    TempDir dir;
    d.add_instance("jsonl", "source", R"({"path":)" + json_text((dir / "in.jsonl").string()) + "}");
    d.add_instance("jsonl", "sink", R"({"path":)" + json_text((dir / "out.jsonl").string()) + "}");

    const Answer unbalanced = d.call("POST", "/v1/flows", regex_flow("unbalanced", R"("(a")"));
    CHECK(unbalanced.status == 400);
    CHECK_MESSAGE(unbalanced.body.find("at /shapes/1/condition/value: is not a regular expression RE2 accepts: missing )") !=
                      std::string::npos,
                  unbalanced.body);

    const Answer backreference = d.call("POST", "/v1/flows", regex_flow("backreference", R"("(a)\\1")"));
    CHECK(backreference.status == 400);
    CHECK_MESSAGE(backreference.body.find("at /shapes/1/condition/value: is not a regular expression RE2 accepts: "
                                          "invalid escape sequence: \\\\1") != std::string::npos,
                  backreference.body);
    CHECK(backreference.body.find("no backreferences or lookaround") != std::string::npos);

    CHECK(Answer(d.call("GET", "/v1/flows")).json()["items"].Size() == 0);
    CHECK(http_call("GET", d.url() + "/healthz").status == 200);
}
