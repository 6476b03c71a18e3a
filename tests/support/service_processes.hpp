// The real programs the flow tests and benchmarks drive: a junction-sim simulator and
// junctiond on a state directory that survives restarts, spoken to over loopback HTTP.
// Failures throw std::runtime_error with what the program logged.
#pragma once

#include "child_process.hpp"
#include "test_paths.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::testing {

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // The first header named `name` (any case), "" when there is none.
    std::string header(std::string_view name) const;
};

// One HTTP exchange through the host's libcurl client; throws when nothing answered.
HttpAnswer http_call(const std::string& method, const std::string& url, const std::string& body = {},
                     const std::vector<std::pair<std::string, std::string>>& headers = {});

// Escapes text as a JSON string literal, quotes included.
std::string json_text(const std::string& text);

class SimulatorProcess {
public:
    // Arguments after junction-sim: {"--api", "shopify", "--items", "100", ...}.
    explicit SimulatorProcess(std::vector<std::string> args);
    const std::string& url() const { return url_; }
    HttpAnswer control(const std::string& method, const std::string& path, const std::string& body = {}) const {
        return http_call(method, url_ + path, body);
    }

private:
    TempDir dir_;
    std::unique_ptr<ChildProcess> process_;
    std::string url_;
};

class JunctiondProcess {
public:
    // A fresh state directory; `plugins` (file names in the build's plugin folder) are
    // copied into its plugin folder. Starts the daemon, with `extra_args` after the usual
    // ones (--config FILE, --tls-cert ...).
    explicit JunctiondProcess(const std::vector<std::string>& plugins, std::vector<std::string> extra_args = {});
    ~JunctiondProcess();  // SIGTERM, then waits

    void start();  // again after kill(): same state, a new port
    void kill();   // SIGKILL, no goodbye
    int stop();    // SIGTERM; returns the exit code
    // Runs the junction CLI against this daemon.
    RunResult cli(std::vector<std::string> args) const;
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    const std::string& url() const { return url_; }
    const std::filesystem::path& log_file() const { return log_; }
    const std::filesystem::path& state_dir() const { return state_; }
    void signal(int sig) const { process_->signal(sig); }

    // An admin API call with the admin token.
    HttpAnswer call(const std::string& method, const std::string& path, const std::string& body = {}) const;

    // Peak resident memory (VmHWM) and CPU seconds (user + system) of the daemon so far.
    long peak_rss_kib() const;
    double cpu_seconds() const;
    // The same, summed over its connector processes running now (each one's own peak).
    long connector_processes_peak_rss_kib() const;
    double connector_processes_cpu_seconds() const;

private:
    TempDir dir_;
    std::filesystem::path state_, plugins_, log_;
    std::vector<std::string> extra_args_;
    std::unique_ptr<ChildProcess> process_;
    std::string url_, token_;
};

}  // namespace junction::testing
