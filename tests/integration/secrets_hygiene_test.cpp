// Issue 15, "nothing leaked", on the real programs: junctiond's standard output names the
// admin token's file but never holds the token; a running junctiond is not dumpable, may
// write no core file and has no JUNCTION_MASTER_KEY left in its environment; a connector
// that logs (and writes to stderr) an instance's secret setting has it redacted in the
// daemon's log, in-process and in a connector process; junction-plugin-check does not print
// the secret of its --config, even when the plugin fails quoting it. A core of a running
// junctiond (gcore) holds neither the admin token, nor the master key's text, nor an
// instance's credential, current or replaced; a crash writes no core.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "child_process.hpp"
#include "service_processes.hpp"
#include "test_paths.hpp"

#include <csignal>
#include <cstdlib>
#include <thread>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "sk_live_5up3r_s3cr3t_v4lu3";
const std::string kMasterKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

// The value of one line of /proc/<pid>/status or /proc/<pid>/limits.
std::string proc_line(pid_t pid, const std::string& file, const std::string& starts) {
    const std::string text = read_text("/proc/" + std::to_string(pid) + "/" + file);
    const size_t at = text.find("\n" + starts);
    return at == std::string::npos ? "" : text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

// Whether a child of this (same user) process, with every capability dropped, can open
// `file`: the kernel's check for another process's environ or memory when it is not
// dumpable needs CAP_SYS_PTRACE even for the same user.
bool opens_without_capabilities(const std::string& file) {
    const pid_t child = ::fork();
    if (child == 0) {
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct none[2] = {};
        if (::syscall(SYS_capset, &header, none) != 0) ::_exit(2);
        const int fd = ::open(file.c_str(), O_RDONLY);
        ::_exit(fd >= 0 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) != 2);
    return WEXITSTATUS(status) == 0;
}

// A daemon with the secret_logger fixture dropped in and picked up (SIGHUP rescans).
void install_secret_logger(JunctiondProcess& d) {
    fs::copy_file(fixture("secret_logger"), d.state_dir().parent_path() / "plugins" / "secret_logger.so");
    d.signal(SIGHUP);
    REQUIRE(wait_for_text(d.log_file(), "connector ready: secret_logger", 60s));
}

// `label` "stderr" has the connector write its key to stderr too: only a connector process's
// stderr passes through junctiond (in its own process a plugin writes to junctiond's own).
void check_connector_secret_redacted(const std::vector<std::string>& args, const std::string& label) {
    JunctiondProcess d({}, args);
    install_secret_logger(d);
    const std::string body = R"({"connector":"secret_logger","name":"careless","config":{"label":")" + label +
                             R"(","api_key":")" + kSecret + R"("}})";
    HttpAnswer added = d.call("POST", "/v1/instances", body);
    for (int i = 0; i < 200 && added.status == 404; ++i) {  // "ready" is logged just before it is active
        std::this_thread::sleep_for(50ms);
        added = d.call("POST", "/v1/instances", body);
    }
    REQUIRE_MESSAGE(added.status == 201, added.body);
    const auto tested = d.call("POST", "/v1/instances/careless/test");
    CHECK(tested.body.find(kSecret) == std::string::npos);
    REQUIRE(wait_for_text(d.log_file(), "secret_logger test: trying api_key=", 30s));
    d.stop();
    const std::string log = read_text(d.log_file());
    INFO(log);
    CHECK(log.find("secret_logger config: api_key=***") != std::string::npos);
    CHECK(log.find("secret_logger test: trying api_key=***") != std::string::npos);
    if (label == "stderr") CHECK(log.find("secret_logger stderr: api_key=***") != std::string::npos);
    CHECK(log.find(kSecret) == std::string::npos);
}

// How many times `needle` is in the file (a core is a few hundred MiB: read in one go).
size_t occurrences(const fs::path& file, const std::string& needle) {
    const std::string text = read_text(file);
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("junctiond's standard output names the admin token's file, never the token") {
    JunctiondProcess d({});
    const std::string token = trimmed(read_text(d.state_dir() / "admin.token"));
    REQUIRE(token.size() == 64);
    const std::string out = read_text(d.log_file());  // stdout and stderr: a file, not a tty
    INFO(out);
    CHECK(out.find((d.state_dir() / "admin.token").string()) != std::string::npos);
    CHECK(out.find(token) == std::string::npos);
}

TEST_CASE("a running junctiond is not dumpable, has no core size and no master key in its environment") {
    ::setenv("JUNCTION_MASTER_KEY", kMasterKey.c_str(), 1);
    JunctiondProcess d({});
    ::unsetenv("JUNCTION_MASTER_KEY");
    const pid_t pid = d.pid();
    // Not dumpable: a process of the same user without CAP_SYS_PTRACE cannot open its
    // memory's views (environ, mem); a dumpable one could.
    CHECK_FALSE(opens_without_capabilities("/proc/" + std::to_string(pid) + "/environ"));
    CHECK(opens_without_capabilities("/proc/self/environ"));  // the probe itself works
    CHECK(read_text(d.log_file()).find("core dumps off, not dumpable") != std::string::npos);
    const std::string limits = proc_line(pid, "limits", "Max core file size");
    INFO(limits);
    CHECK(limits.find(" 0 ") != std::string::npos);
    const std::string environ_text = read_text("/proc/" + std::to_string(pid) + "/environ");
    CHECK(environ_text.find("JUNCTION_MASTER_KEY") == std::string::npos);
    CHECK(environ_text.find(kMasterKey) == std::string::npos);
    CHECK(d.call("GET", "/v1/instances").status == 200);  // it did start with that key
}

TEST_CASE("a connector's log lines and stderr have its instance's secret redacted: in a connector process") {
    check_connector_secret_redacted({}, "stderr");
}

TEST_CASE("a connector's log lines have its instance's secret redacted: in junctiond's own process") {
    check_connector_secret_redacted({"--isolation", "in-process"}, "x");
}

TEST_CASE("junction-plugin-check does not print its --config's secret, even from a failing plugin") {
    const auto r = run_program({(bin_dir() / "junction-plugin-check").string(), fixture("secret_logger").string(),
                                "--config", R"({"label":"x","api_key":")" + kSecret + R"("})"});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("FAIL  test_connection") != std::string::npos);
    CHECK(r.output.find("the server refused api_key=***") != std::string::npos);
    CHECK(r.output.find(kSecret) == std::string::npos);
}

TEST_CASE("a core of a running junctiond holds no admin token, master key text or instance credential") {
#if defined(JUNCTION_SANITIZER_ADDRESS) || defined(JUNCTION_SANITIZER_THREAD)  // the build's, not this file's (tests/CMakeLists.txt)
    // A sanitizer's allocator keeps freed blocks in quarantine and junctiond's wiping free is
    // off under it (decision 0017); its shadow memory also makes a core terabytes large.
    MESSAGE("a sanitizer build: the core of junctiond is checked in the default build only");
    return;
#endif
    const std::string replaced = "sk_live_r3pl4c3d_0ld_v4lu3";
    ::setenv("JUNCTION_MASTER_KEY", kMasterKey.c_str(), 1);
    JunctiondProcess d({});
    ::unsetenv("JUNCTION_MASTER_KEY");
    install_secret_logger(d);
    const std::string token = trimmed(read_text(d.state_dir() / "admin.token"));
    // The credential goes in, is tested (the connector quotes it in its log and its error),
    // is replaced, and the new one is tested too; a wrong token is tried on the way.
    const auto config = [](const std::string& key) {
        return R"({"label":"stderr","api_key":")" + key + R"("})";
    };
    HttpAnswer added = d.call("POST", "/v1/instances",
                              R"({"connector":"secret_logger","name":"kept","config":)" + config(replaced) + "}");
    for (int i = 0; i < 200 && added.status == 404; ++i) {
        std::this_thread::sleep_for(50ms);
        added = d.call("POST", "/v1/instances",
                       R"({"connector":"secret_logger","name":"kept","config":)" + config(replaced) + "}");
    }
    REQUIRE_MESSAGE(added.status == 201, added.body);
    CHECK(d.call("POST", "/v1/instances/kept/test").status == 200);
    const auto patched = d.call("PATCH", "/v1/instances/kept", R"({"config":)" + config(kSecret) + "}");
    REQUIRE_MESSAGE(patched.status == 200, patched.body);
    CHECK(d.call("POST", "/v1/instances/kept/test").status == 200);
    REQUIRE(wait_for_text(d.log_file(), "secret_logger test: trying api_key=***", 30s));

    const TempDir dir;
    const fs::path core_prefix = dir / "core";
    const fs::path gcore = "/usr/bin/gcore";  // gdb's, installed by scripts/setup.sh
    REQUIRE_MESSAGE(fs::exists(gcore), "gcore is missing: run scripts/setup.sh (it installs gdb)");
    const auto dumped = run_program({gcore.string(), "-o", core_prefix.string(), std::to_string(d.pid())});
    const fs::path core_file = core_prefix.string() + "." + std::to_string(d.pid());
    INFO(dumped.output);
    // A non-dumpable process can be read only with CAP_SYS_PTRACE (root, as in CI).
    if (!fs::exists(core_file) && ::geteuid() != 0) {
        MESSAGE("gcore needs CAP_SYS_PTRACE over a non-dumpable junctiond: run as root to check its core");
        return;
    }
    REQUIRE(fs::exists(core_file));
    CHECK(occurrences(core_file, "secret_logger") > 0);  // the core does hold the daemon's data
    CHECK(occurrences(core_file, kSecret) == 0);
    CHECK(occurrences(core_file, replaced) == 0);
    CHECK(occurrences(core_file, token) == 0);
    CHECK(occurrences(core_file, kMasterKey) == 0);
    fs::remove(core_file);
}

TEST_CASE("a junctiond that crashes writes no core file") {
    const TempDir dir;
    const fs::path before = fs::current_path();
    fs::current_path(dir.path());  // core_pattern is often "core", in the crashing process's directory
    {
        JunctiondProcess d({});
        REQUIRE(d.call("GET", "/healthz").status == 200);
        d.signal(SIGSEGV);
        CHECK(d.stop() != 0);  // it did crash
    }
    fs::current_path(before);
    for (const auto& entry : fs::directory_iterator(dir.path()))
        CHECK_MESSAGE(entry.path().filename().string().rfind("core", 0) != 0, entry.path().string());
}
