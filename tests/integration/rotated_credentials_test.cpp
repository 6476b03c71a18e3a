// A connector that rotates a credential (ABI 1.3 credential_get/swap): the REST engine's
// OAuth refresh token, spent and replaced by the token endpoint at every grant (the lab
// simulator rotates on each use). Against the real junctiond: the rotated token is kept
// sealed in the store and survives a restart, a hot swap and a rollback; an operator who
// sets a new token overrides it; none of it is readable in the store file.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"
#include "test_paths.hpp"

#include <rapidjson/document.h>

using namespace junction::testing;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string manifest(const std::string& version) {
    return R"({"engine":"rest","manifest_version":1,"name":"lab","version":")" + version + R"(",
      "display_name":"Lab","description":"rotating refresh tokens",
      "base_url":"{{settings.url}}/lab","settings":{"url":{"type":"string"}},"required_settings":["url"],
      "retry":{"max_attempts":2,"initial_backoff_ms":10,"max_backoff_ms":50},
      "auth_methods":[{"name":"refresh","type":"oauth2_refresh_token","token_url":"{{settings.url}}/lab/token"}],
      "endpoints":[{"name":"offset","direction":"receive","method":"GET","path":"/offset","records":"/rows",
                    "pagination":{"type":"offset","param":"offset","size_param":"limit","size":10}}]})";
}

int grants(const SimulatorProcess& sim) {
    rapidjson::Document d;
    d.Parse(sim.control("GET", "/_sim/received").body.c_str());
    return d["token_grants"].GetInt();
}

}  // namespace

TEST_CASE("a rotated refresh token is kept by junctiond: restart, hot swap, rollback; an operator's new one wins") {
    SimulatorProcess sim({"--api", "lab", "--auth", "refresh_token", "--items", "5"});
    JunctiondProcess d({"rest.so"});
    TempDir files;
    const auto cli = [&](std::vector<std::string> args, int expect = 0) {
        RunResult r = d.cli(std::move(args));
        INFO(r.output);
        CHECK(r.exit_code == expect);
        return r.output;
    };
    write_file(files / "lab-1.0.0.connector.json", manifest("1.0.0"));
    write_file(files / "lab-1.1.0.connector.json", manifest("1.1.0"));
    write_file(files / "secret", "client-secret");
    write_file(files / "refresh", "refresh-1");
    cli({"connectors", "install", (files / "lab-1.0.0.connector.json").string()});
    cli({"instances", "add", "lab", "--name", "lab1", "--set", "url=" + sim.url(), "--set", "client_id=client-1",
         "--secret-file", "client_secret=" + (files / "secret").string(), "--secret-file",
         "refresh_token=" + (files / "refresh").string()});

    // Each line spends the refresh token the instance holds and gets the next one.
    CHECK(has(cli({"instances", "test", "lab1"}), "lab1: ok"));
    CHECK(grants(sim) == 1);

    // A new daemon process, new connector processes: the configured refresh-1 is spent;
    // the rotated one must be what the new plugin object uses.
    d.stop();
    d.start();
    CHECK(has(cli({"instances", "test", "lab1"}), "lab1: ok"));
    CHECK(grants(sim) == 2);

    // A hot swap builds new plugin objects (a canary among them) and commits while they
    // rotate the token: no conflict, and the instance goes on with the newest token.
    cli({"connectors", "install", (files / "lab-1.1.0.connector.json").string()});
    CHECK(has(cli({"connectors", "apply", "lab"}), "1.0.0 -> 1.1.0"));
    d.stop();  // every plugin object gone again: the next one reads the store
    d.start();
    CHECK(has(cli({"instances", "test", "lab1"}), "lab1: ok"));
    CHECK(has(cli({"connectors", "rollback", "lab"}), "1.0.0"));
    d.stop();
    d.start();
    CHECK(has(cli({"instances", "test", "lab1"}), "lab1: ok"));
    const int before = grants(sim);
    CHECK(before >= 4);

    // Sealed at rest: no refresh token the simulator handed out is readable in the store.
    const std::string store = read_text(d.state_dir() / "junction.db") + read_text(d.state_dir() / "junction.db-wal");
    for (int n = 1; n <= before + 1; ++n) CHECK_FALSE(has(store, "refresh-" + std::to_string(n) + "\""));
    CHECK_FALSE(has(store, "refresh-1"));

    // An operator's new value replaces the rotation (here a wrong one: the test then fails).
    write_file(files / "wrong", "typed-by-hand");
    cli({"instances", "update", "lab1", "--secret-file", "refresh_token=" + (files / "wrong").string()});
    const std::string refused = cli({"instances", "test", "lab1"}, 1);
    CHECK(has(refused, "refused"));
    CHECK_FALSE(has(refused, "typed-by-hand"));
}
