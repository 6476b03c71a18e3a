// The shipped programs, run as real processes: junction-plugin-check's verdicts and exit
// codes, and junctiond loading its plugin folder, rescanning on SIGHUP, stopping on SIGTERM.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

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
    CHECK(has(r, "jsonl      1.0.0 *  1.4  records.receive (receive), records.send (send)"));
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
