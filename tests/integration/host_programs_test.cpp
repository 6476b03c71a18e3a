// The shipped programs, run as real processes: junction-plugin-check's verdicts and exit
// codes, and junctiond loading its plugin folder, rescanning on SIGHUP, stopping on SIGTERM.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "child_process.hpp"
#include "test_paths.hpp"

#include <csignal>
#include <sys/stat.h>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
const std::string kCheck = (bin_dir() / "junction-plugin-check").string();
const std::string kDaemon = (bin_dir() / "junctiond").string();

bool has(const RunResult& r, const std::string& text) {
    return r.output.find(text) != std::string::npos;
}
}  // namespace

TEST_CASE("junction-plugin-check passes a good connector and explains a bad one") {
    TempDir dir;
    const std::string cfg = R"({"path":")" + (dir / "r.jsonl").string() + R"("})";
    auto good = run_program({kCheck, (plugin_dir() / "jsonl.so").string(), "--config", cfg,
                             "--invoke", "records.receive"});
    INFO(good.output);
    CHECK(good.exit_code == 0);
    CHECK(has(good, "-> conformant"));
    CHECK(has(good, "PASS  invoke 'records.receive'"));

    auto leaky = run_program({kCheck, fixture("gnu_unique").string()});
    INFO(leaky.output);
    CHECK(leaky.exit_code == 1);
    CHECK(has(leaky, "FAIL  exports"));
    CHECK(has(leaky, "GNU-unique symbols"));

    auto garbage = run_program({kCheck, fixture("variant_garbage_page").string(), "--config",
                                "{}", "--invoke", "read"});
    INFO(garbage.output);
    CHECK(garbage.exit_code == 1);
    CHECK(has(garbage, "a page is not valid JSON"));

    write_file(dir / "notes.so", "not a library");
    auto text = run_program({kCheck, (dir / "notes.so").string()});
    CHECK(text.exit_code == 1);
    CHECK(has(text, "not an ELF file"));

    auto old = run_program({kCheck, fixture("raw_abi_tag_v2").string()});
    CHECK(old.exit_code == 1);
    CHECK(has(old, "built for plugin ABI 2.0"));

    auto usage = run_program({kCheck});
    CHECK(usage.exit_code == 2);
    CHECK(has(usage, "Usage: junction-plugin-check"));
}

TEST_CASE("junction-plugin-check checks the data contract: send results, cursor order, no secret shown") {
    const std::string breaker = fixture("contract_breaker").string();
    const std::string config = R"({"api_key": "sk-live-4f1b2c"})";
    const std::string records = R"({"records": [{"a": 1}, {"a": 2}, {"a": 3}]})";
    auto check = [&](const std::string& op, const std::string& request = "{}", std::vector<std::string> more = {}) {
        std::vector<std::string> argv{kCheck, breaker, "--config", config, "--invoke", op + ":" + request};
        argv.insert(argv.end(), more.begin(), more.end());
        RunResult r = run_program(argv);
        CHECK(r.output.find("sk-live-4f1b2c") == std::string::npos);
        return r;
    };
    const auto good = check("good_send", records, {"--show", "5"});
    INFO(good.output);
    CHECK(good.exit_code == 0);
    CHECK(has(good, "gave one valid result for each of its 3 record(s)"));
    CHECK(has(good, R"({"index":2,"status":"ok","record":{"id":102}})"));  // --show

    const auto wrong = check("wrong_results", records);
    CHECK(wrong.exit_code == 1);
    CHECK_MESSAGE(has(wrong, "result 0 has no \"index\""), wrong.output);
    const auto missing = check("missing_result", records);
    CHECK(missing.exit_code == 1);
    CHECK_MESSAGE(has(missing, "record 1 of the request has no result"), missing.output);
    const auto two = check("two_pages", records);
    CHECK(two.exit_code == 1);
    CHECK_MESSAGE(has(two, "exactly one result page; it emitted 2"), two.output);
    const auto no_records = check("good_send");
    CHECK(no_records.exit_code == 1);
    CHECK(has(no_records, "a send takes {\"records\": [...]}"));

    // Oldest-first by instant, as the host compares cursors (not by bytes).
    const auto ordered = check("ordered", "{}", {"--show", "2"});
    CHECK_MESSAGE(ordered.exit_code == 0, ordered.output);
    CHECK(has(ordered, "4 record(s) in updated_at order"));
    CHECK(has(ordered, R"(ordered: {"id":1,"updated_at":"2026-01-01"})"));
    CHECK_FALSE(has(ordered, R"("id":3)"));  // only the first 2 shown
    const auto unordered = check("unordered");
    CHECK(unordered.exit_code == 1);
    CHECK_MESSAGE(has(unordered, "record 1 has updated_at 2026-01-01T00:00:00Z, older than 2026-01-02T00:00:00Z"),
                  unordered.output);

    // The plugin's failure quotes the secret: the checker shows ***.
    const auto leaky = check("leaky");
    CHECK(leaky.exit_code == 1);
    CHECK(has(leaky, "api_key=***"));

    // One JSON report for CI, secrets out of it too.
    const auto json = check("unordered", "{}", {"--output", "json", "--show", "1"});
    CHECK(json.exit_code == 1);
    rapidjson::Document report;
    report.Parse(json.output.c_str());
    REQUIRE_MESSAGE(!report.HasParseError(), json.output);
    CHECK_FALSE(report["conformant"].GetBool());
    CHECK(report["failures"].GetInt() == 1);
    CHECK(report["checks"].Size() > 3);
    CHECK(std::string(report["records"][0]["operation"].GetString()) == "unordered");
    CHECK(run_program({kCheck, breaker, "--output", "yaml"}).exit_code == 2);

    // The help says what each option runs.
    const auto help = run_program({kCheck, "--help"});
    CHECK(has(help, "without --invoke"));
    CHECK(has(help, "one result per record"));
}

TEST_CASE("junctiond --print-registry loads the plugin folder and reports refusals") {
    TempDir dir;
    fs::create_directories(dir / "drop");
    fs::copy_file(plugin_dir() / "jsonl.so", dir / "drop" / "jsonl.so");
    fs::copy_file(fixture("raw_table_too_small"), dir / "drop" / "small.so");
    auto r = run_program({kDaemon, "--state-dir", (dir / "state").string(), "--plugin-dir",
                          (dir / "drop").string(), "--allow-unsigned-drops", "--print-registry"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(has(r, "CONNECTOR  VERSION  ABI  OPERATIONS"));
    CHECK(has(r, "jsonl      1.0.0 *  1.5  records.receive (receive), records.send (send)"));
    CHECK(has(r, "package refused: " + (dir / "drop" / "small.so").string()));
    struct stat st {};
    REQUIRE(::stat((dir / "state").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("junctiond picks up new packages on SIGHUP and stops cleanly on SIGTERM") {
    TempDir dir;
    fs::create_directories(dir / "drop");
    const fs::path log = dir / "junctiond.log";
    ChildProcess daemon({kDaemon, "--state-dir", (dir / "state").string(), "--plugin-dir",
                         (dir / "drop").string(), "--listen", "127.0.0.1:0", "--allow-unsigned-drops"},
                        log);
    REQUIRE(wait_for_text(log, "admin API listening on", 60s));
    fs::copy_file(plugin_dir() / "jsonl.so", dir / "drop" / "jsonl.so");
    fs::copy_file(fixture("variant_bad_schema"), dir / "drop" / "bad.so");
    daemon.signal(SIGHUP);
    CHECK(wait_for_text(log, "connector ready: jsonl@1.0.0", 60s));
    CHECK(wait_for_text(log, "package refused: " + (dir / "drop" / "bad.so").string(), 60s));
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(10s) == 0);
    CHECK(wait_for_text(log, "stopping on SIGTERM", 60s));
}

TEST_CASE("junctiond settings: flag over environment over config file") {
    TempDir dir;
    fs::create_directories(dir / "drop");
    fs::copy_file(plugin_dir() / "jsonl.so", dir / "drop" / "jsonl.so");
    write_file(dir / "junctiond.conf", "# junctiond settings\nstate-dir = " + (dir / "from-file").string() +
                                           "\nplugin-dir = " + (dir / "drop").string() +
                                           "\nallow-unsigned-drops = true\n");
    auto from_file = run_program({kDaemon, "--config", (dir / "junctiond.conf").string(), "--print-registry"});
    INFO(from_file.output);
    CHECK(from_file.exit_code == 0);
    CHECK(fs::exists(dir / "from-file" / "plugins" / "jsonl"));

    ::setenv("JUNCTION_STATE_DIR", (dir / "from-env").c_str(), 1);
    auto from_env = run_program({kDaemon, "--config", (dir / "junctiond.conf").string(), "--print-registry"});
    auto from_flag = run_program({kDaemon, "--config", (dir / "junctiond.conf").string(), "--state-dir",
                                  (dir / "from-flag").string(), "--print-registry"});
    ::unsetenv("JUNCTION_STATE_DIR");
    CHECK(from_env.exit_code == 0);
    CHECK(fs::exists(dir / "from-env" / "plugins" / "jsonl"));
    CHECK(from_flag.exit_code == 0);
    CHECK(fs::exists(dir / "from-flag" / "plugins" / "jsonl"));

    // Without the setting, an unsigned drop is refused and says what to do.
    auto strict = run_program({kDaemon, "--state-dir", (dir / "strict").string(), "--plugin-dir",
                               (dir / "drop").string(), "--print-registry"});
    CHECK(strict.exit_code == 0);
    CHECK(has(strict, "no marketplace-key is configured"));
    CHECK_FALSE(fs::exists(dir / "strict" / "plugins" / "jsonl"));

    auto bad = run_program({kDaemon, "--listen", "nowhere"});
    CHECK(bad.exit_code == 2);
    CHECK(has(bad, "listen must be ADDRESS:PORT"));
}

TEST_CASE("junction CLI: help on every level without a daemon, clear errors without a token") {
    const std::string cli = (bin_dir() / "junction").string();
    CHECK(run_program({cli}).exit_code == 2);
    auto help = run_program({cli, "--help"});
    CHECK(help.exit_code == 0);
    CHECK(has(help, "marketplace"));
    for (const char* group : {"connectors", "instances", "marketplace"}) {
        CAPTURE(group);
        auto g = run_program({cli, group, "--help"});
        CHECK(g.exit_code == 0);
        CHECK(has(g, std::string("Usage: junction ") + group));
        CHECK(run_program({cli, group}).exit_code == 2);
    }
    TempDir empty;
    auto no_token = run_program({cli, "--state-dir", empty.path().string(), "instances", "list"});
    CHECK(no_token.exit_code == 2);
    CHECK(has(no_token, "no admin token"));
    auto unreachable = run_program({cli, "--url", "http://127.0.0.1:1", "--token", "x", "instances", "list"});
    CHECK(unreachable.exit_code == 3);
    CHECK(has(unreachable, "cannot reach junctiond"));
}
