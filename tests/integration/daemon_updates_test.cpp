// Updates through the real daemon: a new version dropped into the plugin folder is
// noticed without a signal (inotify, and the polling fallback), waits as "update
// available" under the manual policy, is applied and rolled back through the CLI, and is
// applied at once under the auto policy. The history says who did what.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "child_process.hpp"
#include "test_paths.hpp"

#include <csignal>
#include <regex>
#include <thread>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct Daemon {
    TempDir dir;
    fs::path log = dir / "junctiond.log";
    std::unique_ptr<ChildProcess> process;
    std::string url;

    // `signed_drops`: the daemon trusts a publisher key and takes only drops signed with
    // it; otherwise it is told to allow unsigned drops.
    Daemon(const std::string& watch, bool signed_drops, std::vector<std::string> extra = {})
        : signed_(signed_drops) {
        fs::create_directories(dir / "drop");
        std::vector<std::string> argv = {(bin_dir() / "junctiond").string(), "--state-dir", (dir / "state").string(),
                                         "--plugin-dir", (dir / "drop").string(), "--listen", "127.0.0.1:0",
                                         "--plugin-watch", watch};
        if (signed_) {
            REQUIRE(run_program({publish(), "keygen", "--private", (dir / "key.pem").string(), "--public",
                                 (dir / "key.pub").string()}).exit_code == 0);
            argv.insert(argv.end(), {"--marketplace-key", (dir / "key.pub").string()});
        } else {
            argv.push_back("--allow-unsigned-drops");
        }
        argv.insert(argv.end(), extra.begin(), extra.end());
        if (extra.empty()) drop(fixture("conformance"), "conformance.so");
        process = std::make_unique<ChildProcess>(argv, log);
        REQUIRE(wait_for_text(log, "admin API listening on", 60s));
        std::smatch m;
        const std::string text = read_text(log);
        REQUIRE(std::regex_search(text, m, std::regex(R"(listening on (http://127\.0\.0\.1:\d+))")));
        url = m.str(1);
    }
    ~Daemon() {
        process->signal(SIGTERM);
        process->wait(10s);
    }
    RunResult cli(std::vector<std::string> args, const std::string& input = {}) {
        std::vector<std::string> argv = {(bin_dir() / "junction").string(), "--url", url, "--state-dir",
                                         (dir / "state").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(argv, input);
    }
    static std::string publish() { return (bin_dir() / "junction-publish").string(); }
    // Copies a package into the plugin folder the way an admin would: write (with its
    // signature first, when signing), then move in.
    void drop(const fs::path& package, const std::string& name) {
        fs::copy_file(package, dir / (name + ".part"));
        if (signed_) {
            fs::copy_file(package, dir / name);
            REQUIRE(run_program({publish(), "sign", (dir / name).string(), "--key", (dir / "key.pem").string()})
                        .exit_code == 0);
            fs::rename(dir / (name + ".sig"), dir / "drop" / (name + ".sig"));
        }
        fs::rename(dir / (name + ".part"), dir / "drop" / name);
    }
    bool signed_ = false;
};

bool has(const RunResult& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (f()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

}  // namespace

TEST_CASE("manual policy: a dropped version waits, then apply and rollback through the CLI") {
    Daemon d("inotify", true);
    REQUIRE(d.cli({"instances", "add", "conformance", "--name", "uk", "--set", "label=uk", "--secret",
                   "api_token"}, "tok-uk-1\n").exit_code == 0);
    d.drop(fixture("conformance_v2"), "conformance-2.0.0.so");
    CHECK(eventually([&] { return has(d.cli({"connectors", "show", "conformance"}), "2.0.0 available"); }));
    CHECK(has(d.cli({"instances", "show", "uk"}), "connector:   conformance 1.0.0"));

    auto apply = d.cli({"connectors", "apply", "conformance"});
    INFO(apply.output);
    CHECK(apply.exit_code == 0);
    CHECK(has(apply, "1.0.0 -> 2.0.0"));
    CHECK(has(apply, "1 config(s) migrated"));
    auto shown = d.cli({"instances", "show", "uk"});
    CHECK(has(shown, "connector:   conformance 2.0.0"));
    CHECK(has(shown, "display_label = uk"));
    CHECK(d.cli({"instances", "test", "uk"}).exit_code == 0);

    auto back = d.cli({"connectors", "rollback", "conformance"});
    CHECK(back.exit_code == 0);
    CHECK(has(back, "2.0.0 -> 1.0.0"));
    CHECK(has(d.cli({"instances", "show", "uk"}), "label = uk"));

    d.drop(fixture("conformance_v2_bad_canary"), "conformance-2.1.0.so");
    CHECK(eventually([&] { return has(d.cli({"connectors", "list"}), "2.1.0"); }));
    auto refused = d.cli({"connectors", "apply", "conformance", "--version", "2.1.0"});
    CHECK(refused.exit_code == 1);
    CHECK(has(refused, "canary instance uk failed"));

    auto history = d.cli({"connectors", "history", "conformance"});
    CHECK(has(history, "refused"));
    CHECK(has(history, "rollback"));
    CHECK(has(history, "admin"));
    CHECK(has(history, "plugin folder"));

    // Signed drops only: an unsigned package, or one signed by another key, is refused.
    fs::copy_file(fixture("jsonl_v1_1"), d.dir / "unsigned.part");
    fs::rename(d.dir / "unsigned.part", d.dir / "drop" / "unsigned.so");
    CHECK(wait_for_text(d.log, "the package is not signed", 60s));
    REQUIRE(run_program({Daemon::publish(), "keygen", "--private", (d.dir / "other.pem").string(), "--public",
                         (d.dir / "other.pub").string()}).exit_code == 0);
    fs::copy_file(plugin_dir() / "jsonl.so", d.dir / "forged.so");
    REQUIRE(run_program({Daemon::publish(), "sign", (d.dir / "forged.so").string(), "--key",
                         (d.dir / "other.pem").string()}).exit_code == 0);
    fs::rename(d.dir / "forged.so.sig", d.dir / "drop" / "forged.so.sig");
    fs::rename(d.dir / "forged.so", d.dir / "drop" / "forged.so");
    CHECK(wait_for_text(d.log, "not made by a trusted key", 60s));
    CHECK_FALSE(has(d.cli({"connectors", "list"}), "jsonl"));
}

TEST_CASE("auto policy: a dropped version is applied at once, with the polling fallback") {
    Daemon d("poll", false);
    REQUIRE(d.cli({"instances", "add", "conformance", "--name", "eu", "--set", "label=eu", "--secret",
                   "api_token"}, "tok-eu-1\n").exit_code == 0);
    CHECK(d.cli({"connectors", "policy", "conformance", "auto"}).exit_code == 0);
    d.drop(fixture("conformance_v1_1"), "conformance-1.1.0.so");
    CHECK(eventually([&] { return has(d.cli({"instances", "show", "eu"}), "conformance 1.1.0"); }, 20s));
    CHECK(has(d.cli({"connectors", "history", "conformance"}), "auto-update"));

    // A broken package dropped in is reported and ignored; the running version is untouched.
    write_file(d.dir / "broken.part", "not a library");
    fs::rename(d.dir / "broken.part", d.dir / "drop" / "broken.so");
    CHECK(wait_for_text(d.log, "package refused: " + (d.dir / "drop" / "broken.so").string(), 60s));
    CHECK(d.cli({"instances", "test", "eu"}).exit_code == 0);
}

TEST_CASE("the marketplace through the CLI: list, install, updates, apply") {
    TempDir pub;
    const std::string publish = Daemon::publish();
    REQUIRE(run_program({publish, "keygen", "--private", (pub / "key.pem").string(), "--public",
                         (pub / "key.pub").string()}).exit_code == 0);
    for (const auto& [pkg, notes] : std::vector<std::pair<fs::path, std::string>>{
             {fixture("conformance"), "first"}, {fixture("conformance_v1_1"), "faster pages"}})
        REQUIRE(run_program({publish, "add", pkg.string(), "--key", (pub / "key.pem").string(), "--catalogue",
                             (pub / "catalogue").string(), "--notes", notes}).exit_code == 0);

    Daemon d("off", false, {"--marketplace", (pub / "catalogue").string(), "--marketplace-key",
                            (pub / "key.pub").string()});
    auto list = d.cli({"marketplace", "list", "conform"});
    INFO(list.output);
    CHECK(has(list, "conformance  1.0.0 1.1.0"));
    CHECK(has(d.cli({"marketplace", "show", "conformance"}), "1.1.0    yes         1.5      faster pages"));
    CHECK(d.cli({"marketplace", "install", "conformance@1.0.0"}).exit_code == 0);
    REQUIRE(d.cli({"instances", "add", "conformance", "--name", "us", "--set", "label=us", "--secret",
                   "api_token"}, "tok-us-1\n").exit_code == 0);
    auto updates = d.cli({"marketplace", "updates"});
    CHECK(has(updates, "conformance  1.0.0    1.1.0      faster pages"));
    auto install = d.cli({"marketplace", "install", "conformance"});
    CHECK(has(install, "installed conformance@1.1.0 (sha256 and signature verified)"));
    CHECK(has(d.cli({"instances", "show", "us"}), "conformance 1.0.0"));  // manual: not yet
    CHECK(d.cli({"connectors", "apply", "conformance"}).exit_code == 0);
    CHECK(has(d.cli({"instances", "show", "us"}), "conformance 1.1.0"));
    CHECK(d.cli({"connectors", "rollback", "conformance"}).exit_code == 0);
    auto applied = d.cli({"marketplace", "apply", "conformance"});  // installed already: just apply
    INFO(applied.output);
    CHECK(has(applied, "1.0.0 -> 1.1.0"));
    auto none = d.cli({"-o", "json", "marketplace", "updates"});
    CHECK(has(none, R"({"items":[]})"));
}
