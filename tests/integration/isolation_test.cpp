// Issue 14: connectors run in connector processes (the default), so a connector that
// segfaults, aborts, hangs, allocates without bound or floods its output costs the call it
// was in, never the daemon: the call fails with an error naming the call and the limit, the
// daemon keeps answering, other connectors keep working, and a connector whose process
// keeps ending is quarantined.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "misbehaving_daemon.hpp"

#include <junction/core/store/store.hpp>

namespace fs = std::filesystem;
using namespace junction::testing;
using namespace std::chrono_literals;

namespace {

// Short limits, so the hanging cases end in seconds.
const std::vector<std::string> kLimits{"--connector-deadline-create",   "2", "--connector-deadline-test-connection",
                                       "2", "--connector-deadline-invoke", "3", "--connector-kill-grace",
                                       "1", "--connector-memory-limit-mb", "256", "--connector-crash-limit",
                                       "1000", "--connector-backoff-max", "1"};

// What the fixture does in a call, and what the failed call then says (`deadline`: how the
// error names the call kind's deadline, within the limits above).
struct Misbehaviour {
    const char* how;
    std::string says;
};
std::vector<Misbehaviour> misbehaviours(const std::string& deadline) {
    return {{"segfault", "the connector process ended during the call: it was killed by signal 11 (SIGSEGV)"},
            {"abort", "the connector process ended during the call: it was killed by signal 6 (SIGABRT)"},
            {"hang", deadline},
            {"allocate", "it ran out of memory (connector-memory-limit-mb = 256)"},
            {"flood", deadline}};
}

void check_alive(const JunctiondProcess& d) {
    CHECK(d.call("GET", "/healthz").status == 200);
    CHECK(d.call("GET", "/v1/connectors").status == 200);
    CHECK(d.call("GET", "/v1/instances").status == 200);
}

}  // namespace

TEST_CASE("a connector that crashes, hangs, allocates or floods in create or test fails that call; the daemon lives") {
    JunctiondProcess d({"jsonl.so"}, kLimits);
    install(d, "misbehaving", "misbehaving");
    for (const char* in : {"create", "test"}) {
        for (const Misbehaviour& c : misbehaviours("did not finish within its deadline of 2 s (connector-deadline-")) {
            const std::string name = std::string(in) + "-" + c.how;
            INFO(name);
            REQUIRE(d.call("POST", "/v1/instances",
                           R"({"connector":"misbehaving","name":")" + name + R"(","config":{"in":")" + in +
                               R"(","how":")" + c.how + R"("}})")
                        .status == 201);
            const std::string detail = test_detail(d, name);
            CHECK_MESSAGE(detail.find(c.says) != std::string::npos, detail);
            check_alive(d);
        }
    }
    // The flood reached the log a bounded number of lines, not without end.
    const std::string log = read_text(d.log_file());
    size_t stderr_lines = 0;
    for (size_t at = log.find("stderr: xxx"); at != std::string::npos; at = log.find("stderr: xxx", at + 1)) ++stderr_lines;
    CHECK(stderr_lines > 0);
    CHECK(stderr_lines <= 2 * 201);
    // A well-behaved instance of the same connector works, in a new connector process.
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"misbehaving","name":"fine","config":{}})").status == 201);
    const std::string fine = test_detail(d, "fine");  // past any backoff
    CHECK_MESSAGE(std::string(json_of(d.call("GET", "/v1/instances/fine"))["status"].GetString()) == "ok", fine);
}

namespace {

// A manual flow from `from`'s `endpoint` into the jsonl instance "sink".
void add_flow(const JunctiondProcess& d, const std::string& name, const std::string& from, const std::string& endpoint) {
    REQUIRE(d.call("POST", "/v1/flows", R"({"name": ")" + name + R"(", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": ")" + from + R"(", "endpoint": ")" + endpoint +
                                               R"(", "direction": "receive", "next": "store"},
      {"id": "store", "type": "connection", "instance": "sink", "endpoint": "records.send", "direction": "send"}]})")
                .status == 201);
}

std::string start_run(const JunctiondProcess& d, const std::string& flow) {
    const HttpAnswer started = d.call("POST", "/v1/flows/" + flow + "/runs");
    REQUIRE(started.status == 202);
    return json_of(started)["id"].GetString();
}

// Waits for a run to end (a minute at most); returns its view.
rapidjson::Document finished_run(const JunctiondProcess& d, const std::string& run) {
    rapidjson::Document view;
    std::string status = "queued";
    for (int i = 0; i < 1200 && (status == "queued" || status == "running"); ++i) {
        std::this_thread::sleep_for(50ms);
        view = json_of(d.call("GET", "/v1/runs/" + run));
        status = view["status"].GetString();
    }
    return view;
}

std::string integrity_of(const fs::path& state_dir) {
    return junction::core::open_sqlite_store(state_dir / "junction.db")->integrity_check();
}

}  // namespace

TEST_CASE("a connector that crashes, hangs, allocates, floods or nests too deep in invoke fails its run; the daemon lives") {
    TempDir files;
    JunctiondProcess d({"jsonl.so"}, kLimits);
    install(d, "misbehaving", "misbehaving");
    REQUIRE(d.call("POST", "/v1/instances",
                   R"({"connector":"jsonl","name":"sink","config":{"path":")" + (files / "out.jsonl").string() +
                       R"("}})")
                .status == 201);
    auto cases = misbehaviours("did not finish within its deadline of 3 s (connector-deadline-invoke)");
    cases.push_back({"deep", "nests deeper than 128 levels"});  // a page: only invoke emits one
    // Raw frames on its sockets: a done naming another call (which would shift every later
    // result on a reused lane), and pages whose acknowledgements it never reads (which once
    // held the caller long past its deadline). Either way junctiond stops the process.
    cases.push_back({"forge", "junctiond stopped it: it sent a broken message: a message for call 15790320 on the lane of call"});
    // On a busy machine the flood may not fill the socket before the deadline: then the
    // deadline stops it, which is what matters (the caller is not held past it).
    cases.push_back({"pages", "junctiond stopped it: it sent a broken message: it sends pages without reading their acknowledgements"});
    for (const Misbehaviour& c : cases) {
        INFO(std::string(c.how));
        const std::string name = std::string("invoke-") + c.how;
        REQUIRE(d.call("POST", "/v1/instances",
                       R"({"connector":"misbehaving","name":")" + name + R"(","config":{"in":"invoke","how":")" +
                           c.how + R"("}})")
                    .status == 201);
        add_flow(d, name, name, "read");
        // A connector process that ended is started again after its backoff (1 s here):
        // a run in that second fails saying so, and is started again.
        rapidjson::Document view;
        for (int attempt = 0; attempt < 10; ++attempt) {
            view = finished_run(d, start_run(d, name));
            if (std::string(view["error"].GetString()).find("it is started again in") == std::string::npos) break;
            std::this_thread::sleep_for(300ms);
        }
        CHECK(std::string(view["status"].GetString()) == "failed");
        const std::string error = view["error"].GetString();
        const bool stopped_by_deadline = std::string(c.how) == "pages" &&
                                         error.find("did not finish within its deadline of 3 s") != std::string::npos;
        CHECK_MESSAGE((error.find(c.says) != std::string::npos || stopped_by_deadline), error);
        check_alive(d);
    }
    // A well-behaved flow on the same connector runs, in a new connector process.
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"misbehaving","name":"fine","config":{}})").status == 201);
    add_flow(d, "fine", "fine", "read");
    std::string status;
    for (int attempt = 0; attempt < 10 && status != "completed"; ++attempt) {
        status = finished_run(d, start_run(d, "fine"))["status"].GetString();
        if (status != "completed") std::this_thread::sleep_for(300ms);
    }
    CHECK(status == "completed");
    CHECK(d.stop() == 0);
    CHECK(integrity_of(d.state_dir()) == "ok");  // the store is intact
}

TEST_CASE("SIGTERM stops the daemon within its grace while connector calls hang") {
    JunctiondProcess d({"jsonl.so"}, {"--connector-deadline-invoke", "600", "--connector-deadline-test-connection", "600",
                                      "--connector-kill-grace", "1", "--stop-grace", "3"});
    install(d, "misbehaving", "misbehaving");
    TempDir files;
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"misbehaving","name":"stuck","config":{"in":"invoke","how":"hang"}})")
                .status == 201);
    REQUIRE(d.call("POST", "/v1/instances",
                   R"({"connector":"jsonl","name":"sink","config":{"path":")" + (files / "out.jsonl").string() + R"("}})")
                .status == 201);
    add_flow(d, "stuck", "stuck", "read");
    // A hanging test too, holding an admin worker.
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"misbehaving","name":"stuck-test","config":{"in":"test","how":"hang"}})")
                .status == 201);
    std::thread test([&] {
        try {
            d.call("POST", "/v1/instances/stuck-test/test");
        } catch (const std::exception&) {  // the daemon went away under it: expected
        }
    });
    const std::string run = start_run(d, "stuck");
    std::this_thread::sleep_for(500ms);  // both are inside their hanging calls
    CHECK(json_of(d.call("GET", "/v1/runs/" + run))["status"].GetString() == std::string("running"));
    CHECK(d.stop() == 0);  // waits 30 s at most: the stop takes its grace and two kill-graces
    test.join();
    CHECK(integrity_of(d.state_dir()) == "ok");
}

TEST_CASE("a run on a hanging connector can be cancelled, and an unrelated flow completes meanwhile") {
    JunctiondProcess d({"jsonl.so"}, {"--connector-deadline-invoke", "600", "--connector-kill-grace", "1"});
    install(d, "misbehaving", "misbehaving");
    TempDir files;
    write_file(files / "in.jsonl", "{\"id\":1}\n{\"id\":2}\n");
    auto instance = [&](const std::string& body) { REQUIRE(d.call("POST", "/v1/instances", body).status == 201); };
    instance(R"({"connector":"misbehaving","name":"stuck","config":{"in":"invoke","how":"hang"}})");
    instance(R"({"connector":"jsonl","name":"source","config":{"path":")" + (files / "in.jsonl").string() + R"("}})");
    instance(R"({"connector":"jsonl","name":"sink","config":{"path":")" + (files / "out.jsonl").string() + R"("}})");
    auto flow = [&](const std::string& name, const std::string& from, const std::string& endpoint) {
        REQUIRE(d.call("POST", "/v1/flows", R"({"name": ")" + name + R"(", "trigger": {"type": "manual"}, "shapes": [
          {"id": "read", "type": "connection", "instance": ")" + from + R"(", "endpoint": ")" + endpoint +
                                                   R"(", "direction": "receive", "next": "store"},
          {"id": "store", "type": "connection", "instance": "sink", "endpoint": "records.send", "direction": "send"}]})")
                    .status == 201);
    };
    flow("stuck", "stuck", "read");
    flow("copy", "source", "records.receive");
    auto start = [&](const std::string& name) {
        const HttpAnswer started = d.call("POST", "/v1/flows/" + name + "/runs");
        REQUIRE(started.status == 202);
        return std::string(json_of(started)["id"].GetString());
    };
    auto wait_status = [&](const std::string& run) {
        std::string status = "queued";
        for (int i = 0; i < 1200 && (status == "queued" || status == "running"); ++i) {
            std::this_thread::sleep_for(50ms);
            status = json_of(d.call("GET", "/v1/runs/" + run))["status"].GetString();
        }
        return status;
    };
    const std::string stuck = start("stuck");
    std::this_thread::sleep_for(300ms);  // it is inside the hanging invoke
    CHECK(wait_status(start("copy")) == "completed");  // another connector is not held up
    REQUIRE(d.call("POST", "/v1/runs/" + stuck + "/cancel").status < 300);
    CHECK(wait_status(stuck) == "cancelled");
    check_alive(d);
    // SIGTERM stops the daemon (stop() waits 20 s at most), connector processes and all.
    CHECK(d.stop() == 0);
}

TEST_CASE("a connector whose process keeps ending is quarantined, across restarts") {
    JunctiondProcess d({"jsonl.so"}, {"--connector-crash-limit", "3", "--connector-crash-window", "600",
                                      "--connector-backoff-max", "1"});
    install(d, "misbehaving", "misbehaving");
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"misbehaving","name":"crashy","config":{"in":"test","how":"segfault"}})")
                .status == 201);
    const std::string detail = crash_until_quarantined(d, "crashy");
    CHECK_MESSAGE(detail.find("quarantined: its connector process ended 3 times") != std::string::npos, detail);
    const auto view = json_of(d.call("GET", "/v1/instances/crashy"));
    CHECK(std::string(view["status"].GetString()) == "connector_quarantined");
    check_alive(d);
    // It stays quarantined across a restart.
    REQUIRE(d.stop() == 0);
    d.start();
    CHECK(std::string(json_of(d.call("GET", "/v1/instances/crashy"))["status"].GetString()) == "connector_quarantined");
    check_alive(d);
}

TEST_CASE("a library whose describe() crashes, hangs, allocates or floods is refused, naming the file") {
    JunctiondProcess d({"jsonl.so"}, {"--connector-deadline-open", "2", "--connector-kill-grace", "1",
                                      "--connector-memory-limit-mb", "256"});
    for (const char* how : {"segfault", "abort", "hang", "allocate", "flood"}) {
        INFO(how);
        const std::string file = std::string("misbehave_describe_") + how + ".so";
        fs::copy_file(fixture(std::string("misbehave_describe_") + how), plugin_folder(d) / file);
        d.signal(SIGHUP);
        REQUIRE_MESSAGE(wait_for_text(d.log_file(), file + ": ", 60s), read_text(d.log_file()));
        CHECK(d.call("GET", std::string("/v1/connectors/describe-") + how).status == 404);
        check_alive(d);
    }
    const std::string log = read_text(d.log_file());
    CHECK(log.find("misbehave_describe_segfault.so: describe failed: the connector process ended during the call: "
                   "it was killed by signal 11 (SIGSEGV)") != std::string::npos);
    CHECK(log.find("misbehave_describe_hang.so: describe failed: the call did not finish within its deadline of 2 s "
                   "(connector-deadline-open)") != std::string::npos);
}
