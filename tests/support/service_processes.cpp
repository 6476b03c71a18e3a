#include "service_processes.hpp"

#include <junction/core/net/http_client.hpp>

#include <algorithm>
#include <cctype>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace junction::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string tail(const fs::path& file) {
    const std::string text = fs::exists(file) ? read_text(file) : "";
    return text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
}

std::string proc_status_field(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
    return "0";
}

}  // namespace

HttpAnswer http_call(const std::string& method, const std::string& url, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
    core::HttpClient client;
    core::HttpClient::Result r;
    std::string error;
    auto all = headers;
    if (!body.empty()) all.emplace_back("Content-Type", "application/json");
    if (!client.send(method, url, all, body, r, error))
        throw std::runtime_error(method + " " + url + ": " + error);
    return {r.status, std::move(r.body), std::move(r.headers)};
}

std::string HttpAnswer::header(std::string_view name) const {
    auto same = [&](const std::string& k) {
        return std::equal(k.begin(), k.end(), name.begin(), name.end(),
                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                      std::tolower(static_cast<unsigned char>(b)); });
    };
    for (const auto& [k, v] : headers)
        if (same(k)) return v;
    return "";
}

std::string json_text(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

SimulatorProcess::SimulatorProcess(std::vector<std::string> args) {
    args.insert(args.begin(), (bin_dir() / "junction-sim").string());
    const fs::path log = dir_ / "sim.log";
    process_ = std::make_unique<ChildProcess>(args, log);
    if (!wait_for_text(log, "listening on ", 60s)) throw std::runtime_error("junction-sim did not start: " + tail(log));
    const std::string text = read_text(log);
    url_ = text.substr(text.find("http://"));
    url_ = url_.substr(0, url_.find('\n'));
}

JunctiondProcess::JunctiondProcess(const std::vector<std::string>& plugins, std::vector<std::string> extra_args)
    : state_(dir_ / "state"), plugins_(dir_ / "plugins"), log_(dir_ / "junctiond.log"), extra_args_(std::move(extra_args)) {
    fs::create_directories(plugins_);
    for (const auto& f : plugins) fs::copy_file(plugin_dir() / f, plugins_ / f);
    start();
}

JunctiondProcess::~JunctiondProcess() {
    if (process_) {
        process_->signal(SIGTERM);
        process_->wait(20s);
    }
}

void JunctiondProcess::start() {
    const size_t before = fs::exists(log_) ? read_text(log_).size() : 0;
    std::vector<std::string> argv{(bin_dir() / "junctiond").string(), "--state-dir", state_.string(), "--plugin-dir",
                                  plugins_.string(), "--listen", "127.0.0.1:0", "--allow-unsigned-drops",
                                  "--plugin-watch", "off",
                                  // connector processes may use the tests' files (jsonl)
                                  "--connector-paths", fs::temp_directory_path().string()};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    process_ = std::make_unique<ChildProcess>(argv, log_);
    static const std::regex listening(R"(listening on (https?://127\.0\.0\.1:\d+))");
    // A sanitizer build starts several times slower: the wait is generous, not a timing test.
    url_.clear();
    for (int i = 0; i < 2400; ++i) {
        const std::string text = fs::exists(log_) ? read_text(log_).substr(before) : "";
        std::smatch m;  // refers into `text`: read before it goes
        if (std::regex_search(text, m, listening)) {
            url_ = m.str(1);
            break;
        }
        process_->wait(0ms);  // reaps it if it exited: then there is no use waiting
        if (!process_->running()) break;
        std::this_thread::sleep_for(25ms);
    }
    if (url_.empty()) throw std::runtime_error("junctiond did not start: " + tail(log_));
    token_ = read_text(state_ / "admin.token");
    while (!token_.empty() && std::isspace(static_cast<unsigned char>(token_.back()))) token_.pop_back();
}

void JunctiondProcess::kill() {
    process_->signal(SIGKILL);
    process_->wait(10s);
    process_.reset();
}

int JunctiondProcess::stop() {
    process_->signal(SIGTERM);
    const int code = process_->wait(30s);
    process_.reset();
    return code;
}

RunResult JunctiondProcess::cli(std::vector<std::string> args) const {
    args.insert(args.begin(), {(bin_dir() / "junction").string(), "--url", url_, "--state-dir", state_.string()});
    return run_program(args);
}

HttpAnswer JunctiondProcess::call(const std::string& method, const std::string& path, const std::string& body) const {
    try {
        return http_call(method, url_ + path, body, {{"Authorization", "Bearer " + token_}});
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string(e.what()) + "; junctiond's log ends with:\n" + tail(log_));
    }
}

namespace {

double process_cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> f; ++i) {  // field 3 is the state
        if (i == 14) utime = std::stol(f);
        if (i == 15) {
            stime = std::stol(f);
            break;
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

long JunctiondProcess::peak_rss_kib() const { return std::stol(proc_status_field(pid(), "VmHWM")); }

double JunctiondProcess::cpu_seconds() const { return process_cpu_seconds(pid()); }

long JunctiondProcess::connector_processes_peak_rss_kib() const {
    long total = 0;
    for (pid_t p : connector_processes_of(pid())) total += std::stol(proc_status_field(p, "VmHWM"));
    return total;
}

double JunctiondProcess::connector_processes_cpu_seconds() const {
    double total = 0;
    for (pid_t p : connector_processes_of(pid())) total += process_cpu_seconds(p);
    return total;
}

}  // namespace junction::testing
