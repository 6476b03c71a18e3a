// junctiond as a service, driven only through the junction CLI and the HTTP API: the demo's
// three Shopify stores and NetSuite with a hot swap during a running flow and /metrics
// telling it; bad requests refused with the daemon unharmed; TLS with a certificate
// renewed by SIGHUP; the settings reloaded by SIGHUP (and a broken file changing nothing);
// the systemd notifications; the install layout.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "flow_test_daemon.hpp"
#include "test_paths.hpp"

#include <csignal>
#include <cstdlib>
#include <regex>
#include <set>
#include <thread>

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.c_str());
    REQUIRE_MESSAGE(!d.HasParseError(), text);
    return d;
}

// The value of one sample of the metrics text ("name{labels}"), -1 when absent.
long long metric(const std::string& text, const std::string& sample) {
    const size_t at = text.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(text.substr(at + sample.size() + 2));
}

std::string metrics(const JunctiondProcess& d) {
    const HttpAnswer a = d.call("GET", "/metrics");
    REQUIRE(a.status == 200);
    return "\n" + a.body;
}

// Orders of a store that are not cancelled: the simulator cancels 1 in 25.
int open_orders(int orders) { return orders - orders / 25; }

}  // namespace

TEST_CASE("the demo's stores through the CLI: a hot swap during a run moves all three, fails nothing; /metrics tells it") {
    const std::map<std::string, int> orders{{"uk", 300}, {"eu", 400}, {"us", 500}};
    std::map<std::string, std::unique_ptr<Simulator>> stores;
    for (const auto& [region, n] : orders)
        stores[region] = std::make_unique<Simulator>(
            std::vector<std::string>{"--api", "shopify", "--items", std::to_string(n), "--token", "shpat_" + region});
    NetSuite ns;
    JunctiondProcess d({});  // an empty plugin folder: everything is installed through the CLI
    TempDir files;
    std::string transcript;
    auto cli = [&](std::vector<std::string> args) {
        RunResult r = d.cli(std::move(args));
        transcript += r.output;
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        return r.output;
    };

    for (const char* package : {"rest.so", "shopify.connector.json", "netsuite.connector.json"})
        cli({"connectors", "install", (plugin_dir() / package).string()});
    for (const auto& [region, sim] : stores) {
        write_file(files / (region + ".token"), "shpat_" + region);
        cli({"instances", "add", "shopify", "--name", "shopify-" + region, "--set", "store_url=" + sim->url(),
             "--secret-file", "api_key=" + (files / (region + ".token")).string()});
    }
    write_file(files / "ns.pem", ns.private_key);
    cli({"instances", "add", "netsuite", "--name", "netsuite", "--set", "account_url=" + ns.sim->url(), "--set",
         "client_id=ns-client", "--set", "key_id=k1", "--set", "rate_limit_per_second=0", "--secret-file",
         "private_key=" + (files / "ns.pem").string()});
    cli({"flows", "save", (source_dir() / "scripts/demo/order-sync.flow.json").string()});

    // A newer Shopify connector waits (manual policy) until it is applied mid-run.
    std::string manifest = read_text(plugin_dir() / "shopify.connector.json");
    manifest.replace(manifest.find(R"("version": "1.0.0")"), 18, R"("version": "1.1.0")");
    write_file(files / "shopify-1.1.0.connector.json", manifest);
    cli({"connectors", "install", (files / "shopify-1.1.0.connector.json").string()});
    // Each store answers its first pages late, so the run is still reading when the swap lands.
    for (const auto& [region, sim] : stores) REQUIRE(sim->control("POST", "/_sim/faults", R"({"delay_ms":400,"count":2})").status == 200);

    const std::string started = cli({"flows", "run", "order-sync"});
    std::smatch m;
    REQUIRE(std::regex_search(started, m, std::regex("run_[0-9a-f]{16}")));
    const std::string run_id = m.str(0);
    std::this_thread::sleep_for(300ms);
    const std::string during = cli({"runs", "show", run_id});
    CHECK(has(during, "status:   running"));
    CHECK(has(cli({"connectors", "apply", "shopify"}), "1.0.0 -> 1.1.0"));
    cli({"runs", "wait", run_id});

    // Every call succeeded across the swap: the run completed and NetSuite has every order.
    const auto run = parse(cli({"-o", "json", "runs", "show", run_id}));
    CHECK(std::string(run["status"].GetString()) == "completed");
    int expected = 0;
    for (const auto& [region, n] : orders) {
        CHECK(count(run, ("read-" + region).c_str(), "out") == n);
        CHECK(count(run, ("open-" + region).c_str(), "out") == open_orders(n));
        expected += open_orders(n);
    }
    CHECK(count(run, "upsert", "out") == expected);
    const auto received = ns.received();
    REQUIRE(received.HasMember("salesOrder"));
    CHECK(received["salesOrder"].MemberCount() == static_cast<rapidjson::SizeType>(expected));
    std::map<std::string, int> per_region;
    for (const auto& so : received["salesOrder"].GetObject()) {
        const std::string region = so.value["body"]["custbody_region"].GetString();
        CHECK(std::string(so.name.GetString()).rfind(region + "-", 0) == 0);  // "UK-1001"
        per_region[region] += 1;
    }
    CHECK(per_region == std::map<std::string, int>{{"EU", open_orders(400)}, {"UK", open_orders(300)}, {"US", open_orders(500)}});
    const auto instances = parse(cli({"-o", "json", "instances", "list", "--connector", "shopify"}));
    REQUIRE(instances["items"].Size() == 3);
    for (const auto& i : instances["items"].GetArray()) CHECK(std::string(i["version"].GetString()) == "1.1.0");

    const std::string text = metrics(d);
    CHECK(has(cli({"daemon", "metrics"}), "junction_connector_swaps_total{connector=\"shopify\",result=\"switched\"} 1"));
    CHECK(has(cli({"daemon", "status"}), "ready"));
    CHECK(metric(text, R"(junction_connector_info{connector="shopify",version="1.1.0",abi="1.5",active="true"})") == 1);
    CHECK(metric(text, R"(junction_connector_info{connector="shopify",version="1.0.0",abi="1.5",active="false"})") == 1);
    CHECK(metric(text, R"(junction_instances{connector="shopify",version="1.1.0"})") == 3);
    CHECK(metric(text, R"(junction_instances{connector="netsuite",version="1.0.0"})") == 1);
    CHECK(metric(text, R"(junction_connector_swaps_total{connector="shopify",result="switched"})") == 1);
    CHECK(metric(text, R"(junction_flow_runs{flow="order-sync",status="completed"})") == 1);
    CHECK(metric(text, R"(junction_flow_records_received_total{flow="order-sync"})") == 1200);
    CHECK(metric(text, R"(junction_flow_records_delivered_total{flow="order-sync"})") == expected);
    for (const auto& [region, n] : orders)  // pages of 250, and the canary's connection test
        CHECK(metric(text, R"(junction_instance_http_requests_total{instance="shopify-)" + region + R"("})") >= (n + 249) / 250);
    CHECK(metric(text, R"(junction_instance_http_requests_total{instance="netsuite"})") >= expected);
    CHECK(metric(text, R"(junction_instance_http_errors_total{instance="netsuite"})") == 0);

    for (const auto& [region, sim] : stores) {
        CHECK_FALSE(has(transcript + text, "shpat_" + region));
        CHECK_FALSE(has(read_text(d.log_file()), "shpat_" + region));
    }
}

TEST_CASE("malformed, unknown and oversized requests are refused; the daemon keeps serving and nothing changed") {
    JunctiondProcess d({"jsonl.so"});
    TempDir files;
    const std::string config = R"({"path":")" + (files / "orders.jsonl").string() + R"("})";
    REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"jsonl","name":"orders","config":)" + config + "}").status == 201);
    const std::string before = d.call("GET", "/v1/instances").body;

    auto refused = [&](const HttpAnswer& a, int status, const std::string& says) {
        INFO(a.body);
        CHECK(a.status == status);
        CHECK(has(a.body, R"("error":{"code":")"));
        CHECK(has(a.body, says));
    };
    refused(d.call("POST", "/v1/instances", "{not json"), 400, "must be a JSON object");
    refused(d.call("POST", "/v1/instances", R"({"connector":"jsonl","name":"x","config":{},"colour":"red"})"), 400, "unknown field 'colour'");
    refused(d.call("PATCH", "/v1/instances/orders", R"({"config":{"path":5}})"), 400, "path");
    refused(d.call("POST", "/v1/flows", std::string(2u << 20, ' ')), 413, "larger than");
    refused(d.call("DELETE", "/v1/instances/no-such"), 404, "no-such");
    refused(http_call("DELETE", d.url() + "/v1/instances/orders", "", {{"Authorization", "Bearer " + std::string(64, 'f')}}),
            401, "admin token");

    // Not HTTP at all, on a raw connection.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(std::stoi(d.url().substr(d.url().rfind(':') + 1))));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    const std::string garbage = "HELLO THERE\r\n\r\n";
    REQUIRE(::write(fd, garbage.data(), garbage.size()) == static_cast<ssize_t>(garbage.size()));
    char reply[512] = {};
    const ssize_t n = ::read(fd, reply, sizeof reply - 1);
    ::close(fd);
    CHECK(n > 0);
    CHECK(has(reply, "400 Bad Request"));

    CHECK(http_call("GET", d.url() + "/healthz").status == 200);
    CHECK(d.call("GET", "/v1/instances").body == before);
}

TEST_CASE("junctiond's threads are named for what they do (top -H, perf)") {
    JunctiondProcess d({"jsonl.so"});
    REQUIRE(d.call("GET", "/v1/instances").status == 200);  // a handler thread ran
    std::set<std::string> names;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(d.pid()) + "/task")) {
        std::string name = read_text(task.path() / "comm");
        names.insert(name.substr(0, name.find('\n')));
    }
    std::string all;
    for (const auto& n : names) all += n + " ";
    INFO(all);
    for (const char* expected : {"jn-http-0", "jn-api-0", "jn-run-0", "jn-leases", "jn-schedule", "jn-prune", "jn-heartbeat"})
        CHECK(names.count(expected) == 1);
}

TEST_CASE("lists page: flows and instances by name with limit and after") {
    JunctiondProcess d({"jsonl.so"});
    TempDir files;
    for (const char* name : {"a", "b", "c"}) {
        const std::string config = R"({"path":")" + (files / (std::string(name) + ".jsonl")).string() + R"("})";
        REQUIRE(d.call("POST", "/v1/instances", R"({"connector":"jsonl","name":")" + std::string(name) + R"(","config":)" + config + "}").status == 201);
        const HttpAnswer saved = d.call("POST", "/v1/flows", R"({"name":"copy-)" + std::string(name) + R"(","trigger":{"type":"manual"},"shapes":[
            {"id":"read","type":"connection","instance":")" + name + R"(","endpoint":"records.receive","direction":"receive","next":"write"},
            {"id":"write","type":"connection","instance":")" + name + R"(","endpoint":"records.send","direction":"send"}]})");
        REQUIRE_MESSAGE(saved.status == 201, saved.body);
    }
    auto names = [](const HttpAnswer& a) {
        REQUIRE(a.status == 200);
        const auto doc = parse(a.body);
        std::string out;
        for (const auto& item : doc["items"].GetArray()) out += std::string(item["name"].GetString()) + " ";
        return out + "| " + doc["next_after"].GetString();
    };
    CHECK(names(d.call("GET", "/v1/flows?limit=2")) == "copy-a copy-b | copy-b");
    CHECK(names(d.call("GET", "/v1/flows?limit=2&after=copy-b")) == "copy-c | ");
    CHECK(names(d.call("GET", "/v1/flows")) == "copy-a copy-b copy-c | ");
    CHECK(names(d.call("GET", "/v1/instances?limit=2&after=a")) == "b c | c");
    const HttpAnswer bad = d.call("GET", "/v1/flows?limit=0");
    CHECK(bad.status == 400);
    CHECK(has(bad.body, "limit must be a whole number from 1 to 1000"));
    const RunResult more = d.cli({"flows", "list", "--limit", "1"});
    CHECK(has(more.output, "more: junction flows list --after copy-a"));
}

TEST_CASE("TLS with a certificate SIGHUP renews; SIGHUP reloads settings, a broken file changes nothing; systemd hears it all") {
    TempDir files;
    const std::string cert = (files / "cert.pem").string(), key = (files / "key.pem").string();
    auto make_certificate = [&](const std::string& copy) {
        REQUIRE(run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                             "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1"}).exit_code == 0);
        fs::copy_file(cert, copy, fs::copy_options::overwrite_existing);
    };
    const std::string first = (files / "first.pem").string(), second = (files / "second.pem").string();
    make_certificate(first);
    const fs::path config = files / "junctiond.conf";
    write_file(config, "tls-cert = " + cert + "\ntls-key = " + key + "\nlog-level = info\nstop-grace = 5\n");

    // The service manager's end of sd_notify.
    const std::string notify_path = (files / "notify.sock").string();
    const int notify = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::snprintf(un.sun_path, sizeof un.sun_path, "%s", notify_path.c_str());
    REQUIRE(::bind(notify, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
    timeval timeout{10, 0};
    ::setsockopt(notify, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    auto next_notice = [&] {
        char text[512] = {};
        const ssize_t n = ::recv(notify, text, sizeof text - 1, 0);
        return n > 0 ? std::string(text, static_cast<size_t>(n)) : std::string("(nothing)");
    };
    ::setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
    JunctiondProcess d({"jsonl.so"}, {"--config", config.string()});
    ::unsetenv("NOTIFY_SOCKET");
    CHECK(has(next_notice(), "READY=1"));
    REQUIRE(d.url().rfind("https://", 0) == 0);

    auto cli_trusting = [&](const std::string& ca, std::vector<std::string> args) {
        args.insert(args.begin(), {"--cacert", ca});
        return d.cli(std::move(args));
    };
    CHECK(cli_trusting(first, {"connectors", "list"}).exit_code == 0);
    const RunResult untrusted = d.cli({"connectors", "list"});
    CHECK(untrusted.exit_code == 3);  // the system CAs do not know this certificate

    // A renewed certificate and quieter logging; run-workers waits for a restart.
    make_certificate(second);
    write_file(config, "tls-cert = " + cert + "\ntls-key = " + key + "\nlog-level = error\nstop-grace = 5\nrun-workers = 2\n");
    d.signal(SIGHUP);
    CHECK(has(next_notice(), "RELOADING=1"));
    CHECK(has(next_notice(), "READY=1"));
    CHECK(cli_trusting(second, {"connectors", "list"}).exit_code == 0);
    CHECK(cli_trusting(first, {"connectors", "list"}).exit_code == 3);
    const std::string path = "path=" + (files / "o.jsonl").string();
    CHECK(cli_trusting(second, {"instances", "add", "jsonl", "--name", "quiet", "--set", path}).exit_code == 0);
    CHECK_FALSE(has(read_text(d.log_file()), "created instance quiet"));  // info is below error now

    // A broken file: refused with the reason, nothing changes, the daemon serves on.
    write_file(config, "tls-cert = " + cert + "\ntls-key = " + key + "\nlog-level = loud\n");
    d.signal(SIGHUP);
    CHECK(has(next_notice(), "RELOADING=1"));
    CHECK(has(next_notice(), "READY=1"));
    const std::string log = read_text(d.log_file());
    CHECK(has(log, "the settings were not reloaded: log-level must be debug, info, warn or error"));
    CHECK(cli_trusting(second, {"instances", "show", "quiet"}).exit_code == 0);

    CHECK(d.stop() == 0);
    CHECK(has(next_notice(), "STOPPING=1"));
    ::close(notify);
}

TEST_CASE("make install lays out the programs, the unit, the config, the state and plugin folders") {
    TempDir stage;
    const RunResult r = run_program({"/bin/sh", "-c",
                                     "DESTDIR=" + stage.path().string() + " cmake --install " +
                                         (bin_dir() / "..").string() + " --prefix /usr/local --component runtime"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    for (const char* file : {"usr/local/bin/junctiond", "usr/local/bin/junction", "usr/local/lib/systemd/system/junctiond.service",
                             "usr/local/lib/junction/plugins/rest.so", "usr/local/lib/junction/plugins/shopify.connector.json",
                             "etc/junction/junctiond.conf", "usr/local/share/doc/junction/junctiond.md"})
        CHECK_MESSAGE(fs::exists(stage / file), file);
    CHECK(fs::is_directory(stage / "var/lib/junction/drop"));
    CHECK((fs::status(stage / "var/lib/junction").permissions() & fs::perms::all) == fs::perms::owner_all);
    // The shipped config is one the daemon accepts (its folders overridden by flags).
    const RunResult routes = run_program({(bin_dir() / "junctiond").string(), "--config",
                                          (stage / "etc/junction/junctiond.conf").string(), "--state-dir",
                                          (stage / "state").string(), "--plugin-dir", (stage / "drop").string(),
                                          "--print-routes"});
    INFO(routes.output);
    CHECK(routes.exit_code == 0);
    CHECK(has(routes.output, "GET /metrics"));
}

TEST_CASE("--help on every level of the CLI answers without a daemon") {
    const std::map<std::string, std::vector<std::string>> commands{
        {"connectors", {"list", "show", "install", "uninstall", "policy", "apply", "rollback", "history"}},
        {"instances", {"add", "list", "show", "update", "delete", "test"}},
        {"marketplace", {"list", "updates", "install"}},
        {"flows", {"save", "list", "show", "delete", "enable", "disable", "run", "rotate-webhook"}},
        {"runs", {"list", "show", "wait", "log", "failures", "cancel", "retry"}},
        {"builder", {"test"}},
        {"daemon", {"status", "metrics", "openapi"}}};
    const std::string junction = (bin_dir() / "junction").string();
    CHECK(has(run_program({junction, "--help"}).output, "Usage"));
    for (const auto& [group, names] : commands) {
        for (const auto& name : names) {
            const RunResult r = run_program({junction, "--url", "http://127.0.0.1:1", group, name, "--help"});
            CAPTURE(group + " " + name);
            CHECK(r.exit_code == 0);
            CHECK(has(r.output, "Usage: junction " + group));
        }
    }
}
