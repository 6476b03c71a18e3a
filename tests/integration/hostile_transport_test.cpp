// The admin API's transport against hostile clients, on a real junctiond: 2,000 half-sent
// requests under a 1,024 open-file limit (raisable, and not), a closed standard output, and
// the Authorization scheme in any case. The daemon must keep answering others, not spin,
// and close what never finishes.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "service_processes.hpp"
#include "test_paths.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <sstream>
#include <thread>

using namespace junction::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// This test holds thousands of sockets itself.
void raise_own_file_limit() {
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    REQUIRE_MESSAGE(files.rlim_cur >= 4500, "the test needs 4,500 open files (ulimit -Hn)");
}

// junctiond started with fork/exec so the child gets its open-file limit before exec, and
// optionally its standard output on a pipe nobody reads.
class LimitedDaemon {
public:
    // `fixtures`: fixture libraries (tests/fixtures/plugins) put in the plugin folder first.
    LimitedDaemon(rlim_t soft_files, rlim_t hard_files, std::vector<std::string> extra, bool closed_stdout = false,
                  const std::vector<std::string>& fixtures = {})
        : state_(dir_ / "state"), log_(dir_ / "junctiond.log") {
        fs::create_directories(dir_ / "drop");
        for (const auto& f : fixtures) fs::copy_file(fixture(f), dir_ / "drop" / (f + ".so"));
        std::vector<std::string> argv{(bin_dir() / "junctiond").string(), "--state-dir", state_.string(),
                                      "--plugin-dir", (dir_ / "drop").string(), "--listen", "127.0.0.1:0",
                                      "--allow-unsigned-drops", "--plugin-watch", "off"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int pipe_fds[2] = {-1, -1};
        if (closed_stdout) REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
        const rlimit files{soft_files, hard_files};
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {  // only async-signal-safe calls until exec
            ::setrlimit(RLIMIT_NOFILE, &files);
            ::dup2(closed_stdout ? pipe_fds[1] : log_fd, STDOUT_FILENO);
            ::dup2(log_fd, STDERR_FILENO);
            const int null_fd = ::open("/dev/null", O_RDONLY);
            ::dup2(null_fd, STDIN_FILENO);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(log_fd);
        if (closed_stdout) {
            ::close(pipe_fds[0]);  // nobody will ever read: writes get EPIPE (or SIGPIPE)
            ::close(pipe_fds[1]);
        }
        static const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
        for (int i = 0; i < 2400 && alive() && port_ == 0; ++i) {  // generous: sanitizer builds start slowly
            const std::string text = log();
            std::smatch m;  // refers into `text`
            if (std::regex_search(text, m, listening)) port_ = static_cast<uint16_t>(std::stoi(m.str(1)));
            else std::this_thread::sleep_for(25ms);
        }
        REQUIRE_MESSAGE(port_ != 0, "junctiond did not start: " << log());
        token_ = read_text(state_ / "admin.token");
        while (!token_.empty() && std::isspace(static_cast<unsigned char>(token_.back()))) token_.pop_back();
    }
    ~LimitedDaemon() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 1000 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i) std::this_thread::sleep_for(20ms);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }

    bool alive() const {
        int status = 0;
        return ::waitpid(pid_, &status, WNOHANG) == 0;
    }
    std::string log() const { return read_text(log_); }
    uint16_t port() const { return port_; }
    const std::string& token() const { return token_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // User + system CPU seconds so far (/proc/PID/stat fields 14 and 15).
    double cpu_seconds() const {
        const std::string text = read_text("/proc/" + std::to_string(pid_) + "/stat");
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string f;
        long ticks = 0;
        for (int i = 3; fields >> f && i <= 15; ++i)
            if (i >= 14) ticks += std::stol(f);
        return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }

private:
    TempDir dir_;
    fs::path state_, log_;
    pid_t pid_ = -1;
    uint16_t port_ = 0;
    std::string token_;
};

// A TCP connection to the daemon from `from` (any address of 127.0.0.0/8).
int connect_from(const std::string& from, uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    REQUIRE_MESSAGE(::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0, "connect failed");
    return fd;
}

struct RawAnswer {
    int status = 0;  // 0: the connection closed without an answer
    std::string text;
};

// One request on a fresh connection (Connection: close); the whole answer, waiting at most
// `patience` for it.
RawAnswer raw_call(const std::string& from, uint16_t port, const std::string& method, const std::string& path,
                   const std::string& authorization = {}, std::chrono::milliseconds patience = 20s) {
    const int fd = connect_from(from, port);
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
    request += "\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    RawAnswer out;
    const auto deadline = std::chrono::steady_clock::now() + patience;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    std::smatch m;
    if (std::regex_search(out.text, m, std::regex(R"(^HTTP/1\.1 (\d{3}))"))) out.status = std::stoi(m.str(1));
    return out;
}

// `count` connections from `from`, each with a request whose headers never end.
std::vector<int> half_sent_requests(const std::string& from, uint16_t port, int count) {
    static const std::string partial = "GET /v1/instances HTTP/1.1\r\nHost: x\r\n";
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) {
        const int fd = connect_from(from, port);
        ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
        fds.push_back(fd);
    }
    return fds;
}

// True when the daemon closed the connection (EOF or reset), waiting up to `patience`.
bool closed_by_daemon(int fd, std::chrono::milliseconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) return n == 0 || errno == ECONNRESET;
    }
    return false;
}

size_t count_closed(const std::vector<int>& fds, std::chrono::milliseconds patience) {
    size_t closed = 0;
    for (int fd : fds) closed += closed_by_daemon(fd, patience) ? 1 : 0;
    return closed;
}

void close_all(std::vector<int>& fds) {
    for (int fd : fds) ::close(fd);
    fds.clear();
}

// CPU the daemon uses over two seconds, in cores. Loaded CI machines make this noisy: the
// bound is a sanity check against a spinning accept loop (1.0 and more), not a timing.
double cpu_cores_over_two_seconds(const LimitedDaemon& d) {
    const double before = d.cpu_seconds();
    std::this_thread::sleep_for(2s);
    return (d.cpu_seconds() - before) / 2.0;
}

void check_answers_from(const std::string& from, const LimitedDaemon& d) {
    const RawAnswer health = raw_call(from, d.port(), "GET", "/healthz");
    CHECK_MESSAGE(health.status == 200, health.text);
    const RawAnswer list = raw_call(from, d.port(), "GET", "/v1/instances", "Bearer " + d.token());
    CHECK_MESSAGE(list.status == 200, list.text);
    CHECK(has(list.text, R"("items":[)"));
}

}  // namespace

TEST_CASE("under a 1,024 soft limit it can raise, 2,000 half-sent requests leave the API answering") {
    raise_own_file_limit();
    LimitedDaemon d(1024, 8192, {"--header-timeout", "3", "--max-connections-per-client", "5000"});
    CHECK(has(d.log(), "open-file limit 8192 (raised to the hard limit)"));

    auto held = half_sent_requests("127.0.0.1", d.port(), 2000);
    check_answers_from("127.0.0.1", d);
    CHECK(cpu_cores_over_two_seconds(d) < 0.5);
    // Headers that never end are closed after header-timeout, every one of them.
    CHECK(count_closed(held, 15s) == held.size());
    close_all(held);
    CHECK(d.alive());
}

TEST_CASE("with a hard limit of 1,024, the per-address cap keeps other clients answered") {
    raise_own_file_limit();
    LimitedDaemon d(1024, 1024, {"--header-timeout", "3"});  // max-connections-per-client: 64
    CHECK(has(d.log(), "open-file limit 1024 (the hard limit"));

    auto held = half_sent_requests("127.0.0.1", d.port(), 2000);
    // The same address is over its cap: told so, not left hanging.
    const RawAnswer refused = raw_call("127.0.0.1", d.port(), "GET", "/healthz");
    CHECK_MESSAGE(refused.status == 429, refused.text);
    CHECK(has(refused.text, "max-connections-per-client"));
    // Another client is served, the health check and an authenticated call alike.
    check_answers_from("127.0.0.2", d);
    CHECK(cpu_cores_over_two_seconds(d) < 0.5);
    CHECK(count_closed(held, 15s) == held.size());
    close_all(held);
    check_answers_from("127.0.0.1", d);
}

TEST_CASE("out of descriptors, accepting backs off instead of spinning, and recovers") {
    raise_own_file_limit();
    LimitedDaemon d(1024, 1024, {"--header-timeout", "3", "--max-connections-per-client", "5000"});

    auto held = half_sent_requests("127.0.0.1", d.port(), 2000);
    std::this_thread::sleep_for(500ms);  // let it run out
    CHECK(cpu_cores_over_two_seconds(d) < 0.5);
    CHECK(has(d.log(), "cannot accept connections"));
    // The held ones time out and free their descriptors; the queued ones get accepted.
    CHECK(closed_by_daemon(held.front(), 15s));
    close_all(held);
    const RawAnswer health = raw_call("127.0.0.2", d.port(), "GET", "/healthz", {}, 30s);
    CHECK_MESSAGE(health.status == 200, health.text << "\n" << d.log());
    CHECK(d.alive());
}

// An authenticated JSON request through the host's HTTP client.
HttpAnswer api(const LimitedDaemon& d, const std::string& method, const std::string& path, const std::string& body = {}) {
    return http_call(method, d.url() + path, body, {{"Authorization", "Bearer " + d.token()}});
}

TEST_CASE("a closed standard output does not kill the daemon") {
    // The first start prints where the new admin token is on standard output: a pipe nobody reads.
    LimitedDaemon d(1024, 8192, {}, true, {"stdout_writer"});
    std::this_thread::sleep_for(300ms);
    REQUIRE(d.alive());
    check_answers_from("127.0.0.1", d);
    // A plugin writes to that standard output too.
    const HttpAnswer added = api(d, "POST", "/v1/instances", R"({"connector":"stdout_writer","name":"noisy","config":{}})");
    REQUIRE_MESSAGE(added.status == 201, added.body);
    const HttpAnswer tested = api(d, "POST", "/v1/instances/noisy/test");
    CHECK_MESSAGE(tested.status == 200, tested.body);
    CHECK(d.alive());
    check_answers_from("127.0.0.1", d);
}

TEST_CASE("a slow handler's reply is delivered after the read deadlines have passed") {
    // The request's deadlines are 1 s; the connection test takes 2 s. The reply gets its own.
    LimitedDaemon d(1024, 8192, {"--header-timeout", "1", "--request-timeout", "1"}, false, {"stdout_writer"});
    const HttpAnswer added =
        api(d, "POST", "/v1/instances", R"({"connector":"stdout_writer","name":"slow","config":{"sleep_ms":2000}})");
    REQUIRE_MESSAGE(added.status == 201, added.body);
    // More slow calls than the worker pool has threads (8): all of them busy.
    std::vector<std::future<HttpAnswer>> slow;
    for (int i = 0; i < 10; ++i)
        slow.push_back(std::async(std::launch::async, [&] { return api(d, "POST", "/v1/instances/slow/test"); }));
    std::this_thread::sleep_for(500ms);
    // The health checks do not queue behind them: answered while every slow call is pending.
    CHECK(raw_call("127.0.0.2", d.port(), "GET", "/healthz").status == 200);
    CHECK(raw_call("127.0.0.2", d.port(), "GET", "/readyz").status == 200);
    size_t pending = 0;
    for (auto& f : slow) pending += f.wait_for(0s) == std::future_status::timeout ? 1 : 0;
    CHECK(pending == slow.size());
    for (auto& f : slow) {
        const HttpAnswer tested = f.get();
        CHECK_MESSAGE(tested.status == 200, tested.body);
    }
}

TEST_CASE("the Authorization scheme is accepted in any case; a wrong token is still refused") {
    JunctiondProcess d({});
    const std::string token = [&] {
        std::string t = read_text(d.state_dir() / "admin.token");
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
        return t;
    }();
    for (const std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
        const HttpAnswer a = http_call("GET", d.url() + "/v1/instances", {}, {{"Authorization", scheme + " " + token}});
        CHECK_MESSAGE(a.status == 200, scheme << ": " << a.body);
    }
    const HttpAnswer wrong = http_call("GET", d.url() + "/v1/instances", {}, {{"Authorization", "bearer x" + token}});
    CHECK(wrong.status == 401);
    const HttpAnswer no_space = http_call("GET", d.url() + "/v1/instances", {}, {{"Authorization", "Bearer" + token}});
    CHECK(no_space.status == 401);
    const HttpAnswer basic = http_call("GET", d.url() + "/v1/instances", {}, {{"Authorization", "Basic " + token}});
    CHECK(basic.status == 401);
}
