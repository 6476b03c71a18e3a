// Issue 13, "a crash can never loop": whatever crashed junctiond once (a library in the plugin
// folder, a connector's instance creation or test, a poison run) does not crash it again at the
// next start; `junctiond --safe` always gets the API up; commands that only print create no
// state. Every case drives the real daemon, which really dies (SIGSEGV in a fixture library):
// connectors run inside junctiond here (isolation = in-process, for trusted connectors), the
// one mode where a connector's crash is the daemon's. In the default mode a crash only ends
// a connector process (isolation_test.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"

#include <rapidjson/document.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

namespace fs = std::filesystem;
using namespace junction::testing;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kInProcess{"--isolation", "in-process"};

rapidjson::Document json_of(const HttpAnswer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    return d;
}

size_t occurrences(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// True once `pid` (our child) has ended: gone, or a zombie waiting to be reaped.
bool has_died(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    if (stat.empty()) return true;
    const size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

void wait_until_dead(JunctiondProcess& d) {
    for (int i = 0; i < 1200 && !has_died(d.pid()); ++i) std::this_thread::sleep_for(25ms);
    REQUIRE_MESSAGE(has_died(d.pid()), "junctiond did not die; its log:\n" << read_text(d.log_file()));
    d.kill();  // reaps it
}

// A start that may die under us (a run that crashes it as it resumes): tolerated here.
void start_maybe_dying(JunctiondProcess& d) {
    try {
        d.start();
    } catch (const std::exception&) {
    }
}

fs::path plugin_folder(const JunctiondProcess& d) { return d.state_dir().parent_path() / "plugins"; }

void drop(const JunctiondProcess& d, const std::string& fixture_name, const std::string& as) {
    const fs::path target = plugin_folder(d) / as;
    fs::copy_file(fixture(fixture_name), target, fs::copy_options::overwrite_existing);
}

bool healthy(const JunctiondProcess& d) {
    return d.call("GET", "/healthz").status == 200 && d.call("GET", "/v1/connectors").status == 200;
}

bool connector_listed(const JunctiondProcess& d, const std::string& name) {
    return d.call("GET", "/v1/connectors").body.find("\"" + name + "\"") != std::string::npos;
}


// Drops the fixture as crashy.so, rescans, and waits until it is the active version.
void install_crashy(JunctiondProcess& d, const std::string& fixture_name) {
    drop(d, fixture_name, "crashy.so");
    d.signal(SIGHUP);
    auto active = [&] { return d.call("GET", "/v1/connectors").body.find(R"("active":true)") != std::string::npos; };
    for (int i = 0; i < 400 && !active(); ++i) std::this_thread::sleep_for(25ms);
    REQUIRE_MESSAGE(active(), read_text(d.log_file()));
}

}  // namespace

TEST_CASE("a library whose load or describe() crashes the daemon is quarantined, not loaded again") {
    for (const char* crashing : {"crash_in_describe", "crash_at_load"}) {
        INFO("fixture " << crashing);
        JunctiondProcess d({}, kInProcess);
        drop(d, crashing, "crashy.so");
        d.signal(SIGHUP);  // the rescan loads it: the daemon dies (issue 14 keeps it alive)
        wait_until_dead(d);

        d.start();  // does not crash again
        const std::string log = read_text(d.log_file());
        CHECK(log.find("crashy.so crashed the daemon while loading it; it is quarantined") != std::string::npos);
        CHECK(log.find("remove it, or install a fixed build") != std::string::npos);
        CHECK(healthy(d));
        CHECK_FALSE(connector_listed(d, "crashy"));
        CHECK(fs::exists(d.state_dir() / "quarantine"));

        // A rescan of the same bytes (touched, so the folder scan reads it again) skips it.
        fs::last_write_time(plugin_folder(d) / "crashy.so", fs::file_time_type::clock::now() + 1h);
        const size_t refusals = occurrences(read_text(d.log_file()), "crashy.so: quarantined: ");
        d.signal(SIGHUP);
        REQUIRE(wait_for_text(d.log_file(), "SIGHUP: rescanning", 60s));
        for (int i = 0; i < 400 && occurrences(read_text(d.log_file()), "crashy.so: quarantined: ") == refusals; ++i)
            std::this_thread::sleep_for(25ms);
        CHECK(occurrences(read_text(d.log_file()), "crashy.so: quarantined: ") > refusals);
        CHECK(healthy(d));

        // A fixed build under the same name is a different file: it is installed.
        drop(d, "crash_fixed", "crashy.so");
        d.signal(SIGHUP);
        for (int i = 0; i < 400 && !connector_listed(d, "crashy"); ++i) std::this_thread::sleep_for(25ms);
        CHECK(connector_listed(d, "crashy"));
    }
}

TEST_CASE("a connector version whose instance creation or test crashed the daemon is quarantined") {
    struct Case {
        const char* fixture;
        const char* action;
    };
    for (const Case c : {Case{"crash_in_create", "crashed the daemon while creating an instance of it"},
                         Case{"crash_in_test", "crashed the daemon while testing instance c1"}}) {
        INFO("fixture " << c.fixture);
        JunctiondProcess d({}, kInProcess);
        install_crashy(d, c.fixture);  // describe() is fine
        REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"crashy","name":"c1","config":{}})").status == 201);
        CHECK_THROWS(d.call("POST", "/v1/instances/c1/test"));  // the daemon dies answering
        wait_until_dead(d);

        d.start();
        const std::string log = read_text(d.log_file());
        CHECK_MESSAGE(log.find(std::string("crashy@1.0.0 ") + c.action + "; it is quarantined") != std::string::npos, log);
        CHECK(healthy(d));
        const auto instance = json_of(d.call("GET", "/v1/instances/c1"));
        CHECK(std::string(instance["status"].GetString()) == "connector_quarantined");
        CHECK(std::string(instance["status_detail"].GetString()).find(c.action) != std::string::npos);
        // Testing again answers with an error; it does not load the version and crash.
        const HttpAnswer again = d.call("POST", "/v1/instances/c1/test");
        CHECK(again.status < 500);
        CHECK(healthy(d));
    }
}

TEST_CASE("a run that crashed the daemon twice is failed, not resumed, and runs retry runs it again") {
    JunctiondProcess d({}, kInProcess);
    install_crashy(d, "crash_in_invoke");
    const HttpAnswer created = d.call("POST", "/v1/instances", R"({"connector":"crashy","name":"c1","config":{"crash":true}})");
    REQUIRE_MESSAGE(created.status == 201, created.body);
    REQUIRE(d.call("POST", "/v1/flows", R"({"name": "poison", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": "c1", "endpoint": "read", "direction": "receive"}]})").status == 201);
    const HttpAnswer started = d.call("POST", "/v1/flows/poison/runs");
    REQUIRE(started.status == 202);
    const std::string run_id = json_of(started)["id"].GetString();
    wait_until_dead(d);  // crash 1, in the run

    start_maybe_dying(d);  // resumed once: crash 2
    wait_until_dead(d);

    d.start();  // crash 2 was one too many: the run is failed, the daemon stays up
    const std::string expected = "the daemon stopped twice while running this run; it is not resumed "
                                 "automatically (junction runs retry " + run_id + " to try again)";
    const auto run = json_of(d.call("GET", "/v1/runs/" + run_id));
    CHECK(std::string(run["status"].GetString()) == "failed");
    CHECK(std::string(run["error"].GetString()) == expected);
    CHECK(read_text(d.log_file()).find(expected) != std::string::npos);
    CHECK(d.cli({"runs", "show", run_id}).output.find(expected) != std::string::npos);
    CHECK(healthy(d));

    // The admin fixes the cause and retries: the retry runs to the end.
    REQUIRE(d.call("PATCH", "/v1/instances/c1", R"({"config":{"crash":false}})").status == 200);
    const RunResult retried = d.cli({"runs", "retry", run_id});
    REQUIRE_MESSAGE(retried.exit_code == 0, retried.output);
    std::smatch m;
    REQUIRE(std::regex_search(retried.output, m, std::regex("run_[0-9a-f]+")));
    const std::string retry_id = m.str(0);
    std::string status;
    for (int i = 0; i < 400; ++i) {
        status = json_of(d.call("GET", "/v1/runs/" + retry_id))["status"].GetString();
        if (status != "queued" && status != "running") break;
        std::this_thread::sleep_for(25ms);
    }
    CHECK(status == "completed");
}

TEST_CASE("a run paused by clean stops resumes every time: stops are not crashes") {
    // stop-grace 0: the stop does not wait for a page, so no checkpoint is what saves the
    // run; only its "paused" mark tells the next start it was not a crash.
    JunctiondProcess d({}, {"--stop-grace", "0", "--isolation", "in-process"});
    install_crashy(d, "crash_in_invoke");
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"crashy","name":"slow","config":{"sleep_ms":1500}})").status == 201);
    REQUIRE(d.call("POST", "/v1/flows", R"({"name": "slow", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": "slow", "endpoint": "read", "direction": "receive"}]})").status == 201);
    const std::string run_id = json_of(d.call("POST", "/v1/flows/slow/runs"))["id"].GetString();
    for (int stop = 0; stop < 3; ++stop) {
        for (int i = 0; i < 400 && std::string(json_of(d.call("GET", "/v1/runs/" + run_id))["status"].GetString()) != "running"; ++i)
            std::this_thread::sleep_for(25ms);
        REQUIRE(std::string(json_of(d.call("GET", "/v1/runs/" + run_id))["status"].GetString()) == "running");
        CHECK(d.stop() == 0);  // in the middle of the connector's 1.5 s call
        d.start();
    }
    std::string status;
    for (int i = 0; i < 400; ++i) {
        status = json_of(d.call("GET", "/v1/runs/" + run_id))["status"].GetString();
        if (status != "queued" && status != "running") break;
        std::this_thread::sleep_for(25ms);
    }
    CHECK(status == "completed");
    const std::string log = read_text(d.log_file());
    CHECK(log.find("was paused by a stop; resuming it") != std::string::npos);
    CHECK(log.find("stopped twice") == std::string::npos);
}

namespace {

// junctiond started by hand on an existing state directory with extra flags (--safe).
struct RawDaemon {
    std::unique_ptr<ChildProcess> process;
    std::string url, token;
    RawDaemon(const JunctiondProcess& d, const fs::path& log, std::vector<std::string> extra) {
        std::vector<std::string> argv{(bin_dir() / "junctiond").string(), "--state-dir", d.state_dir().string(),
                                      "--plugin-dir", plugin_folder(d).string(), "--listen", "127.0.0.1:0",
                                      "--allow-unsigned-drops", "--plugin-watch", "inotify"};
        argv.insert(argv.end(), kInProcess.begin(), kInProcess.end());
        argv.insert(argv.end(), extra.begin(), extra.end());
        process = std::make_unique<ChildProcess>(argv, log);
        REQUIRE_MESSAGE(wait_for_text(log, "listening on ", 60s), read_text(log));
        std::smatch m;
        const std::string text = read_text(log);
        REQUIRE(std::regex_search(text, m, std::regex(R"(listening on (http://127\.0\.0\.1:\d+))")));
        url = m.str(1);
        token = read_text(d.state_dir() / "admin.token");
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    }
    ~RawDaemon() {
        process->signal(SIGTERM);
        process->wait(20s);
    }
    HttpAnswer call(const std::string& method, const std::string& path) const {
        return http_call(method, url + path, {}, {{"Authorization", "Bearer " + token}});
    }
};

}  // namespace

TEST_CASE("junctiond --safe starts with an interrupted run and a crashing library, resuming and scanning nothing") {
    JunctiondProcess d({}, kInProcess);
    install_crashy(d, "crash_in_invoke");
    const HttpAnswer created = d.call("POST", "/v1/instances", R"({"connector":"crashy","name":"c1","config":{"crash":true}})");
    REQUIRE_MESSAGE(created.status == 201, created.body);
    REQUIRE(d.call("POST", "/v1/flows", R"({"name": "poison", "trigger": {"type": "manual"}, "shapes": [
      {"id": "read", "type": "connection", "instance": "c1", "endpoint": "read", "direction": "receive"}]})").status == 201);
    const std::string run_id = json_of(d.call("POST", "/v1/flows/poison/runs"))["id"].GetString();
    wait_until_dead(d);
    drop(d, "crash_at_load", "bad.so");  // would kill a scan

    TempDir logs;
    {
        RawDaemon safe(d, logs / "safe.log", {"--safe"});
        std::this_thread::sleep_for(500ms);  // what a resume or scan would do, it would have begun
        CHECK(safe.call("GET", "/healthz").status == 200);
        const auto daemon = json_of(safe.call("GET", "/v1/daemon"));
        CHECK(daemon["safe_mode"].GetBool());
        const auto run = json_of(safe.call("GET", "/v1/runs/" + run_id));
        CHECK(std::string(run["status"].GetString()) == "running");  // left as it is
        CHECK_FALSE(run["resumed"].GetBool());
        const std::string log = read_text(logs / "safe.log");
        CHECK(log.find("safe mode") != std::string::npos);
        CHECK(log.find("restart without --safe") != std::string::npos);
        CHECK(log.find("bad.so") == std::string::npos);  // not scanned
        CHECK(log.find("resuming it") == std::string::npos);
        CHECK(safe.call("GET", "/v1/connectors").status == 200);
    }
    // Stopping the safe daemon did not count or pause anything: the next normal start
    // resumes the run as the first crash (it crashes once more, then it is failed).
    CHECK(fs::is_empty(d.state_dir() / "loading"));
}

TEST_CASE("commands that only print create no state anywhere") {
    TempDir scratch;
    const fs::path state = scratch / "nonexistent-state";
    const fs::path tmp = scratch / "tmp";
    fs::create_directories(tmp);
    const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
    ::setenv("JUNCTION_STATE_DIR", state.c_str(), 1);
    ::setenv("HOME", scratch.path().c_str(), 1);
    ::setenv("TMPDIR", tmp.c_str(), 1);
    const std::string daemon = (bin_dir() / "junctiond").string();
    const RunResult routes = run_program({daemon, "--print-routes"});
    CHECK_MESSAGE(routes.exit_code == 0, routes.output);
    CHECK(routes.output.find("GET /healthz") != std::string::npos);
    CHECK(routes.output.find("GET /v1/daemon") != std::string::npos);
    const RunResult help = run_program({daemon, "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.output.find("--safe") != std::string::npos);
    const RunResult version = run_program({daemon, "--version"});
    CHECK(version.exit_code == 0);
    CHECK(version.output.find("junctiond ") == 0);
    CHECK(run_program({(bin_dir() / "junction").string(), "--help"}).exit_code == 0);
    ::unsetenv("JUNCTION_STATE_DIR");
    ::unsetenv("TMPDIR");
    ::setenv("HOME", home.c_str(), 1);
    CHECK_FALSE(fs::exists(state));
    CHECK(fs::is_empty(tmp));  // the throwaway directory of --print-routes is gone
    for (const auto& e : fs::directory_iterator(scratch.path()))  // nothing in HOME either
        CHECK_MESSAGE(e.path() == tmp, e.path());
}
