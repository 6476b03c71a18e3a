// Issue 14, the admin side of connector processes: a quarantine is lifted with `junction
// connectors release` (API and CLI) and calls go through again; the isolation of a connector
// is changed through the API while calls run, without a failed call and across a restart;
// `connectors show`, /metrics and the daemon's status say how connectors run.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "misbehaving_daemon.hpp"

#include <atomic>
#include <mutex>
#include <thread>

using namespace junction::testing;

namespace {

// Three crashes quarantine a version; a process that ended restarts after 1 s at most.
const std::vector<std::string> kQuickQuarantine{"--connector-crash-limit", "3", "--connector-crash-window", "600",
                                                "--connector-backoff-max", "1"};

const rapidjson::Value& only_version(const rapidjson::Document& connector) {
    REQUIRE(connector["versions"].Size() == 1);
    return connector["versions"][0];
}

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

TEST_CASE("a quarantined connector is released through the API and the CLI, and its calls go through again") {
    JunctiondProcess d({"jsonl.so"}, kQuickQuarantine);
    install(d, "misbehaving", "misbehaving");
    auto create = [&](const std::string& name, const std::string& config) {
        REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"misbehaving","name":")" + name + R"(","config":)" +
                                                    config + "}")
                    .status == 201);
    };
    create("crashy", R"({"in":"test","how":"segfault"})");
    create("fine", "{}");
    const std::string detail = crash_until_quarantined(d, "crashy");
    REQUIRE_MESSAGE(detail.find("quarantined: its connector process ended 3 times") != std::string::npos, detail);

    // Quarantined: a call that would work fails at once, and says how to release it.
    const std::string refused = test_detail(d, "fine");
    CHECK_MESSAGE(refused.find("quarantined") != std::string::npos, refused);
    CHECK_MESSAGE(refused.find("junction connectors release misbehaving") != std::string::npos, refused);
    CHECK(instance_status(d, "fine") == "connector_quarantined");
    const auto shown = json_of(d.call("GET", "/v1/connectors/misbehaving"));
    const auto& version = only_version(shown);
    CHECK(version["quarantined"].GetBool());
    CHECK(std::string(version["quarantine_reason"].GetString()).find("ended 3 times") != std::string::npos);
    CHECK(version["loaded"].GetBool());
    CHECK(std::string(version["isolation"].GetString()) == "process");
    const std::string metrics = d.call("GET", "/metrics").body;
    CHECK(has_line(metrics, R"(junction_connector_quarantined{connector="misbehaving",version="1.0.0"} 1)"));
    CHECK(has_line(metrics, R"(junction_connector_quarantines_total 1)"));
    CHECK(has_line(metrics,
                   R"(junction_connector_version_info{connector="misbehaving",version="1.0.0",isolation="process"} 1)"));
    CHECK(metrics.find("junction_connector_process_crashes_total 3\n") != std::string::npos);

    // Released through the API: the calls go through again.
    const HttpAnswer released = d.call("POST", "/v1/connectors/misbehaving/release", "{}");
    REQUIRE_MESSAGE(released.status == 200, released.body);
    const auto report = json_of(released);
    CHECK(report["released"].GetInt() == 1);
    CHECK(report["versions"][0]["was_quarantined"].GetBool());
    CHECK(test_detail(d, "fine").empty());
    CHECK(instance_status(d, "fine") == "ok");
    CHECK(json_of(d.call("GET", "/v1/connectors/misbehaving"))["versions"][0]["quarantined"].GetBool() == false);
    CHECK(d.call("GET", "/metrics").body.find("junction_connector_quarantined{") == std::string::npos);
    const auto history = json_of(d.call("GET", "/v1/connectors/misbehaving/history"));
    CHECK(std::string(history["items"][0]["action"].GetString()) == "release");

    // Releasing what is not quarantined is not an error, and says so; an unknown name is.
    const auto again = json_of(d.call("POST", "/v1/connectors/misbehaving/release", "{}"));
    CHECK(again["released"].GetInt() == 0);
    CHECK(again["versions"][0]["was_quarantined"].GetBool() == false);
    CHECK(d.call("POST", "/v1/connectors/nothing-such/release", "{}").status == 404);
    CHECK(d.call("POST", "/v1/connectors/misbehaving/release", R"({"version":"9.9.9"})").status == 404);

    // Quarantined again, then a restart: the version does not even load. The CLI releases
    // it, the active version loads, and calls go through.
    REQUIRE(crash_until_quarantined(d, "crashy").find("quarantined") != std::string::npos);
    REQUIRE(d.stop() == 0);
    d.start();
    CHECK(instance_status(d, "fine") == "connector_quarantined");
    CHECK(json_of(d.call("GET", "/v1/connectors/misbehaving"))["versions"][0]["loaded"].GetBool() == false);
    const RunResult cli = d.cli({"connectors", "release", "misbehaving"});
    CHECK_MESSAGE(cli.exit_code == 0, cli.output);
    CHECK_MESSAGE(cli.output.find("misbehaving@1.0.0: quarantine lifted") != std::string::npos, cli.output);
    CHECK_MESSAGE(cli.output.find("its active version is loaded again") != std::string::npos, cli.output);
    CHECK(test_detail(d, "fine").empty());
    CHECK(instance_status(d, "fine") == "ok");
    const RunResult nothing = d.cli({"connectors", "release", "misbehaving"});
    CHECK_MESSAGE(nothing.output.find("not quarantined, nothing to release") != std::string::npos, nothing.output);
}

TEST_CASE("the daemon's status says where connectors run and what confines them here; a failed probe says so") {
    const RunResult probe = run_program({(bin_dir() / "junction-connector-host").string(), "--probe"});
    REQUIRE_MESSAGE(probe.exit_code == 0, probe.output);
    rapidjson::Document kernel;
    kernel.Parse(probe.output.c_str());
    REQUIRE(kernel.IsObject());
    {
        JunctiondProcess d({"jsonl.so"});
        const auto status = json_of(d.call("GET", "/v1/daemon"));
        CHECK(std::string(status["isolation"].GetString()) == "process");
        const auto& host = status["connector_host"];
        CHECK(std::string(host["program"].GetString()) == (bin_dir() / "junction-connector-host").string());
        CHECK(std::string(host["probe"].GetString()) == "ok");
        CHECK(host["landlock_abi"].GetInt() == kernel["landlock_abi"].GetInt());
        CHECK(host["seccomp"].GetBool() == kernel["seccomp"].GetBool());
        CHECK(host["confine"].GetBool());
        REQUIRE(host["confined"].IsArray());
        CHECK(host["confined"].Size() >= 1);  // the limits always apply
        REQUIRE(host["not_confined"].IsArray());
        const RunResult cli = d.cli({"daemon", "status"});
        CHECK_MESSAGE(cli.exit_code == 0, cli.output);
        CHECK_MESSAGE(cli.output.find("isolation:      process") != std::string::npos, cli.output);
        CHECK_MESSAGE(cli.output.find("a connector process is confined by:") != std::string::npos, cli.output);
    }
    // A connector host that cannot answer: the daemon starts all the same, and says so.
    JunctiondProcess d({"jsonl.so"}, {"--connector-host-program", "/bin/false", "--isolation", "in-process"});
    const auto status = json_of(d.call("GET", "/v1/daemon"));
    CHECK(std::string(status["isolation"].GetString()) == "in-process");
    const auto& host = status["connector_host"];
    CHECK(std::string(host["probe"].GetString()) == "failed");
    CHECK_MESSAGE(std::string(host["probe_error"].GetString()).find("/bin/false --probe failed: it exited with status 1") !=
                      std::string::npos,
                  host["probe_error"].GetString());
    const RunResult cli = d.cli({"daemon", "status"});
    CHECK_MESSAGE(cli.output.find("probe:          FAILED: /bin/false --probe failed") != std::string::npos, cli.output);
}

TEST_CASE("isolation set through the API applies at once while calls run, fails none, and holds across a restart") {
    JunctiondProcess d({"jsonl.so"});
    install(d, "misbehaving", "misbehaving");
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"misbehaving","name":"fine","config":{}})").status == 201);
    REQUIRE(test_detail(d, "fine").empty());
    auto shown = [&] { return json_of(d.call("GET", "/v1/connectors/misbehaving")); };
    CHECK(std::string(shown()["isolation"].GetString()) == "process");
    CHECK(std::string(shown()["isolation_source"].GetString()) == "config");

    // Calls go on without a pause while the isolation changes back and forth.
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0}, failures{0};
    std::mutex mutex;
    std::string first_failure;
    std::thread caller([&] {
        while (!stop) {
            const HttpAnswer a = d.call("POST", "/v1/instances/fine/test");
            const auto view = json_of(a);
            if (a.status != 200 || std::string(view["status"].GetString()) != "ok") {
                std::lock_guard lock(mutex);
                if (failures++ == 0) first_failure = a.body;
            }
            ++calls;
        }
    });
    auto calls_go_on = [&] {  // a few more calls, so each change overlaps calls
        for (const int until = calls + 3; calls < until && failures == 0;) std::this_thread::yield();
    };
    auto set = [&](const std::string& body) {
        calls_go_on();
        const HttpAnswer a = d.call("PUT", "/v1/connectors/misbehaving/isolation", body);
        calls_go_on();
        return a;
    };
    for (const char* mode : {"in-process", "process", "in-process"}) {
        INFO(mode);
        const HttpAnswer a = set(std::string(R"({"isolation":")") + mode + R"("})");
        REQUIRE_MESSAGE(a.status == 200, a.body);
        const auto change = json_of(a);
        CHECK(std::string(change["isolation"].GetString()) == mode);
        CHECK(std::string(change["source"].GetString()) == "api");
        CHECK(change["reloaded"].GetBool());
        CHECK(change["swap"]["instances"].GetInt() == 1);
        const auto connector = shown();
        CHECK(std::string(connector["isolation"].GetString()) == mode);
        CHECK(std::string(only_version(connector)["isolation"].GetString()) == mode);
        CHECK(has_line(d.call("GET", "/metrics").body,
                       std::string(R"(junction_connector_version_info{connector="misbehaving",version="1.0.0",isolation=")") +
                           mode + R"("} 1)"));
    }
    stop = true;
    caller.join();
    CHECK_MESSAGE(failures == 0, first_failure);
    CHECK(calls > 6);
    CHECK(std::string(json_of(d.call("GET", "/v1/connectors/misbehaving/history"))["items"][0]["action"].GetString()) ==
          "isolation");
    CHECK(d.call("PUT", "/v1/connectors/misbehaving/isolation", R"({"isolation":"container"})").status == 400);
    CHECK(d.call("PUT", "/v1/connectors/misbehaving/isolation", "{}").status == 400);
    CHECK(d.call("PUT", "/v1/connectors/nothing-such/isolation", R"({"isolation":"process"})").status == 404);

    // The choice is in the store: a restart loads the connector in-process again.
    REQUIRE(d.stop() == 0);
    d.start();
    CHECK(std::string(shown()["isolation_source"].GetString()) == "api");
    CHECK(std::string(only_version(shown())["isolation"].GetString()) == "in-process");
    CHECK(test_detail(d, "fine").empty());

    // Back to the config file's (process), through the CLI.
    const RunResult cli = d.cli({"connectors", "isolation", "misbehaving", "default"});
    CHECK_MESSAGE(cli.exit_code == 0, cli.output);
    CHECK_MESSAGE(cli.output.find("misbehaving: isolation process (the config file's); 1 instance(s) moved") !=
                      std::string::npos,
                  cli.output);
    CHECK(std::string(shown()["isolation_source"].GetString()) == "config");
    CHECK(std::string(only_version(shown())["isolation"].GetString()) == "process");
    const RunResult show = d.cli({"connectors", "show", "misbehaving"});
    CHECK_MESSAGE(show.output.find("1.0.0 (active): loaded, isolation process") != std::string::npos, show.output);
}
