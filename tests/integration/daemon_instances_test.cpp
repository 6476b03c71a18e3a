// The real daemon and the real CLI, over loopback: the whole instance lifecycle, with
// every byte the CLI printed and every daemon log line collected, and no credential
// anywhere in them or in the raw SQLite files. Also: a wrong admin token changes nothing,
// and a wrong master key stops the daemon with a clear error and an untouched store.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "child_process.hpp"
#include "test_paths.hpp"

#include <junction/core/registry/package_file.hpp>

#include <csignal>
#include <regex>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kUkToken = "shpat_uk_c0ffee_7781";
const std::string kEuToken = "shpat_eu_deadbeef_5523";
const std::string kNewUkToken = "shpat_uk_rotated_9912";

struct Daemon {
    TempDir dir;
    fs::path log;  // of the current run; each start writes its own
    int runs = 0;
    std::unique_ptr<ChildProcess> process;
    std::string url;
    std::string transcript;  // every byte the CLI printed

    Daemon() {
        fs::create_directories(dir / "drop");
        fs::copy_file(fixture("conformance"), dir / "drop" / "conformance.so");
        fs::copy_file(plugin_dir() / "jsonl.so", dir / "drop" / "jsonl.so");
        start();
    }
    void start() {
        log = dir / ("junctiond-" + std::to_string(++runs) + ".log");
        process = std::make_unique<ChildProcess>(
            std::vector<std::string>{(bin_dir() / "junctiond").string(), "--state-dir",
                                     (dir / "state").string(), "--plugin-dir", (dir / "drop").string(),
                                     "--listen", "127.0.0.1:0", "--allow-unsigned-drops"},
            log);
        REQUIRE(wait_for_text(log, "admin API listening on", 60s));
        std::smatch m;
        const std::string text = read_text(log);
        REQUIRE(std::regex_search(text, m, std::regex(R"(listening on (http://127\.0\.0\.1:\d+))")));
        url = m.str(1);
    }
    void stop() {
        process->signal(SIGTERM);
        CHECK(process->wait(10s) == 0);
    }
    RunResult cli(std::vector<std::string> args, const std::string& input = {}) {
        std::vector<std::string> argv = {(bin_dir() / "junction").string(), "--url", url,
                                         "--state-dir", (dir / "state").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        RunResult r = run_program(argv, input);
        transcript += r.output;
        return r;
    }
};

bool has(const RunResult& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("instance lifecycle through the CLI never shows a credential") {
    Daemon d;
    write_file(d.dir / "uk.token", kUkToken + "\n");
    write_file(d.dir / "uk-new.token", kNewUkToken);

    CHECK(d.cli({"connectors", "list"}).exit_code == 0);
    auto add_uk = d.cli({"instances", "add", "conformance", "--name", "shopify-uk", "--set", "label=uk",
                         "--secret-file", "api_token=" + (d.dir / "uk.token").string()});
    INFO(add_uk.output);
    CHECK(add_uk.exit_code == 0);
    CHECK(has(add_uk, "api_token = ***"));
    // A secret read from a prompt (here: piped standard input).
    auto add_eu = d.cli({"instances", "add", "conformance", "--name", "shopify-eu", "--set", "label=eu",
                         "--secret", "api_token"}, kEuToken + "\n");
    CHECK(add_eu.exit_code == 0);
    auto add_ns = d.cli({"instances", "add", "jsonl", "--name", "netsuite", "--set",
                         "path=" + (d.dir / "ns.jsonl").string()});
    CHECK(add_ns.exit_code == 0);

    // A credential on the command line is refused before anything is sent.
    auto leaky = d.cli({"instances", "add", "conformance", "--name", "x", "--set", "label=x", "--set",
                        "api_token=" + kEuToken});
    CHECK(leaky.exit_code == 2);
    CHECK(has(leaky, "is a credential: use --secret"));

    auto list = d.cli({"instances", "list"});
    CHECK(list.exit_code == 0);
    CHECK(has(list, "shopify-eu"));
    CHECK(has(list, "netsuite"));
    CHECK(d.cli({"instances", "show", "shopify-uk"}).exit_code == 0);
    CHECK(d.cli({"-o", "json", "instances", "show", "shopify-eu"}).exit_code == 0);
    CHECK(d.cli({"-o", "json", "instances", "list", "--limit", "2"}).exit_code == 0);
    auto test = d.cli({"instances", "test", "shopify-uk"});
    CHECK(test.exit_code == 0);
    CHECK(has(test, "shopify-uk: ok"));

    CHECK(d.cli({"instances", "update", "shopify-uk", "--secret-file",
                 "api_token=" + (d.dir / "uk-new.token").string()}).exit_code == 0);
    auto failing = d.cli({"instances", "update", "shopify-eu", "--set", "label=refuse"});
    CHECK(failing.exit_code == 0);
    auto failed_test = d.cli({"instances", "test", "shopify-eu"});
    CHECK(failed_test.exit_code == 1);
    CHECK(has(failed_test, "failing"));

    auto invalid = d.cli({"instances", "add", "jsonl", "--name", "bad", "--set", "page_size=0"});
    CHECK(invalid.exit_code == 1);
    CHECK(has(invalid, "field 'path' is required"));
    CHECK(has(invalid, "field 'page_size' is too small"));

    auto uninstall = d.cli({"connectors", "uninstall", "conformance"});
    CHECK(uninstall.exit_code == 1);
    CHECK(has(uninstall, "used by 2 instance(s): shopify-eu, shopify-uk"));

    // A wrong token is refused and changes nothing.
    auto intruder = run_program({(bin_dir() / "junction").string(), "--url", d.url, "--token",
                                 std::string(64, 'f'), "instances", "delete", "netsuite"});
    d.transcript += intruder.output;
    CHECK(intruder.exit_code == 1);
    CHECK(intruder.output.find("missing or wrong admin token") != std::string::npos);
    CHECK(d.cli({"instances", "show", "netsuite"}).exit_code == 0);

    CHECK(d.cli({"instances", "update", "shopify-eu", "--rename", "shopify-europe"}).exit_code == 0);
    CHECK(d.cli({"instances", "delete", "netsuite"}).exit_code == 0);
    CHECK(d.cli({"instances", "show", "netsuite"}).exit_code == 1);
    d.stop();

    const std::string daemon_log = read_text(d.log);
    for (const std::string& secret : {kUkToken, kEuToken, kNewUkToken}) {
        CAPTURE(secret);
        CHECK(d.transcript.find(secret) == std::string::npos);
        CHECK(daemon_log.find(secret) == std::string::npos);
        for (const auto& e : fs::directory_iterator(d.dir / "state"))
            if (e.path().filename().string().starts_with("junction.db"))
                CHECK(read_text(e.path()).find(secret) == std::string::npos);
    }
    CHECK(daemon_log.find("created instance shopify-uk") != std::string::npos);
}

TEST_CASE("the CLI finds a daemon on any address from its state directory, and shows what an instance needs") {
    Daemon d;
    // No --url: the address the daemon wrote into its state directory (it listens on a
    // random port here, not the default).
    const RunResult shown = run_program({(bin_dir() / "junction").string(), "--state-dir", (d.dir / "state").string(),
                                         "connectors", "show", "conformance"});
    CHECK_MESSAGE(shown.exit_code == 0, shown.output);
    CHECK(has(shown, "instance fields:"));
    CHECK(std::regex_search(shown.output, std::regex(R"(api_token +string +yes +yes \(sealed, never shown\))")));
    CHECK(std::regex_search(shown.output, std::regex(R"(label +string +yes +no)")));
    d.stop();
}

TEST_CASE("a wrong master key stops the daemon with a clear error and touches nothing") {
    Daemon d;
    write_file(d.dir / "t", kUkToken);
    REQUIRE(d.cli({"instances", "add", "conformance", "--name", "uk", "--set", "label=uk",
                   "--secret-file", "api_token=" + (d.dir / "t").string()}).exit_code == 0);
    d.stop();
    const auto db = d.dir / "state" / "junction.db";
    const std::string before = junction::core::sha256_file(db);
    const std::string key_before = read_text(d.dir / "state" / "master.key");

    ::setenv("JUNCTION_MASTER_KEY", std::string(64, '7').c_str(), 1);
    auto refused = run_program({(bin_dir() / "junctiond").string(), "--state-dir",
                                (d.dir / "state").string(), "--listen", "127.0.0.1:0"});
    ::unsetenv("JUNCTION_MASTER_KEY");
    CHECK(refused.exit_code == 1);
    CHECK(refused.output.find("is not the key this store's credentials were encrypted with") !=
          std::string::npos);
    CHECK(junction::core::sha256_file(db) == before);
    CHECK(read_text(d.dir / "state" / "master.key") == key_before);

    // With the right key the daemon starts and the credential still works.
    d.start();
    auto test = d.cli({"instances", "test", "uk"});
    CHECK(test.exit_code == 0);
    d.stop();

    // Rotation: a new key file, every credential re-encrypted, the instance still works.
    auto rotated = run_program({(bin_dir() / "junctiond").string(), "--state-dir",
                                (d.dir / "state").string(), "--rotate-key"});
    INFO(rotated.output);
    CHECK(rotated.exit_code == 0);
    CHECK(read_text(d.dir / "state" / "master.key") != key_before);
    CHECK(rotated.output.find(kUkToken) == std::string::npos);
    d.start();
    CHECK(d.cli({"instances", "test", "uk"}).exit_code == 0);
    d.stop();
}
