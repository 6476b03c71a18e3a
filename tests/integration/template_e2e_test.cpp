// The starter template as a third-party author gets it (issue 18): the SDK installed to a
// prefix, the template built out of tree from the installed copy with g++/libstdc++ and
// with clang/libc++, uploaded to a real daemon, and run against the items simulator in
// flows: every page read (through a 429 with Retry-After and a 503), an incremental read
// that resumes at the cursor, and a send that gives each record its own result (one
// refused by the API, the others passing their created objects on).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "flow_test_daemon.hpp"
#include "test_paths.hpp"

#include <fstream>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Installs the SDK once for the whole test.
const fs::path& installed_sdk() {
    static TempDir prefix;
    static const bool installed = [] {
        const RunResult r = run_program({JUNCTION_CMAKE, "--install", bin_dir().parent_path().string(), "--prefix",
                                         prefix.path().string(), "--component", "sdk"});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        return true;
    }();
    (void)installed;
    return prefix.path();
}

// Builds the installed template with `compiler` ("g++" or "clang++ + libc++"); returns the library.
fs::path build_template(const TempDir& out, bool clang) {
    const fs::path sdk = installed_sdk();
    std::vector<std::string> configure{JUNCTION_CMAKE, "-S", (sdk / "share/junction/sdk/template").string(), "-B",
                                       (out / "build").string(), "-DCMAKE_PREFIX_PATH=" + sdk.string(),
                                       "-DCMAKE_BUILD_TYPE=Release"};
    if (clang) configure.insert(configure.end(), {"-DCMAKE_CXX_COMPILER=clang++", "-DCMAKE_CXX_FLAGS=-stdlib=libc++"});
    else configure.push_back("-DCMAKE_CXX_COMPILER=g++");
    const RunResult configured = run_program(configure);
    REQUIRE_MESSAGE(configured.exit_code == 0, configured.output);
    const RunResult built = run_program({JUNCTION_CMAKE, "--build", (out / "build").string(), "-j2"});
    REQUIRE_MESSAGE(built.exit_code == 0, built.output);
    return out / "build" / "my_connector.so";
}

std::vector<std::string> lines_of(const fs::path& file) {
    std::vector<std::string> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

void run_the_template(bool clang) {
    TempDir work;
    const fs::path library = build_template(work, clang);
    Simulator api({"--api", "items", "--items", "250", "--token", "tok-template"});
    Daemon d;
    const Answer uploaded = d.call("POST", "/v1/connectors/upload?file=my_connector.so", read_text(library));
    REQUIRE_MESSAGE(uploaded.status == 201, uploaded.body);
    d.add_instance("my_connector", "items", R"({"base_url":")" + api.url() + R"(","api_token":"tok-template"})");
    const fs::path pulled = work / "pulled.jsonl", created = work / "created.jsonl";
    d.add_instance("jsonl", "pulled", R"({"path":)" + json_text(pulled.string()) + "}");
    d.add_instance("jsonl", "created", R"({"path":)" + json_text(created.string()) + "}");

    // Every page, through a rate limit (Retry-After: 1) and a failing server on the way.
    d.save_flow(R"({"name": "pull", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": "items", "endpoint": "items.receive", "direction": "receive", "next": "out"},
      {"id": "out", "type": "connection", "instance": "pulled", "endpoint": "records.send", "direction": "send"}]})");
    REQUIRE(api.control("POST", "/_sim/faults", R"({"status": 429, "count": 1, "retry_after": "1"})").status == 200);
    REQUIRE(api.control("POST", "/_sim/faults", R"({"status": 503, "count": 1})").status == 200);
    const auto first = d.wait_run(d.start_run("pull"));
    CHECK_MESSAGE(std::string(first["status"].GetString()) == "completed", std::string(first["error"].GetString()));
    CHECK(count(first, "read", "out") == 250);
    CHECK(lines_of(pulled).size() == 250);
    CHECK(lines_of(pulled).back().find(R"("id":250)") != std::string::npos);
    // The connector's own log line reached the run's log, beside its shape.
    const std::string run_log = Answer(d.call("GET", "/v1/runs/" + std::string(first["id"].GetString()) + "/log")).body;
    CHECK_MESSAGE(run_log.find(R"x("shape":"read","message":"items: read 250 item(s)")x") != std::string::npos, run_log);

    // Incremental: the next run starts at the newest updated_at (inclusive: that one item again).
    const auto second = d.wait_run(d.start_run("pull"));
    CHECK(std::string(second["start_cursors"]["read"].GetString()) == "2026-01-01T04:10:00+00:00");
    CHECK(count(second, "read", "out") == 1);

    // A send: one result per record; the refused one fails alone, the created ones go on with their ids.
    d.save_flow(R"({"name": "push", "trigger": {"type": "manual"}, "shapes": [
      {"id": "send", "type": "connection", "instance": "items", "endpoint": "items.send", "direction": "send", "next": "out"},
      {"id": "out", "type": "connection", "instance": "created", "endpoint": "records.send", "direction": "send"}]})");
    const auto pushed = d.wait_run(
        d.start_run("push", R"({"payload": [{"name": "a"}, {"name": "b", "reject": true}, {"name": "c"}]})"));
    CHECK(count(pushed, "send", "out") == 2);
    CHECK(count(pushed, "send", "failed") == 1);
    const auto out = lines_of(created);
    REQUIRE(out.size() == 2);
    CHECK(out[0].find(R"("id":100000)") != std::string::npos);
    CHECK(out[1].find(R"("name":"c")") != std::string::npos);
    const std::string failures = Answer(d.call("GET", "/v1/runs/" + std::string(pushed["id"].GetString()) + "/failures")).body;
    CHECK_MESSAGE(failures.find("HTTP 422") != std::string::npos, failures);
    CHECK(failures.find("item refused: it asked to be") != std::string::npos);
}

}  // namespace

TEST_CASE("the installed template, built with g++ and libstdc++, pages, resumes, retries and sends per record") {
    run_the_template(false);
}

TEST_CASE("the installed template, built with clang and libc++, does the same") { run_the_template(true); }
