// junctiond: the Junction host process. For now it keeps the connector registry: it
// installs the packages dropped into its plugin folder, and rescans on SIGHUP. The admin
// API, instances and flows grow here as they land.
#include "daemon_options.hpp"
#include "text_table.hpp"

#include <junction/core/connector_registry.hpp>
#include <junction/core/error.hpp>
#include <junction/core/log.hpp>

#include <csignal>
#include <filesystem>
#include <iostream>

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace junction::core;

namespace {

std::string join_operations(const Manifest& m) {
    std::string out;
    for (const auto& op : m.operations)
        out += (out.empty() ? "" : ", ") + op.name + " (" + direction_name(op.direction) + ")";
    return out;
}

void print_registry(const ConnectorRegistry& registry, std::ostream& out) {
    junction::host::TextTable table({"CONNECTOR", "VERSION", "ABI", "OPERATIONS", "SHA256"});
    for (const auto& v : registry.list()) {
        table.add_row({v->name(), v->version(),
                       std::to_string(v->plugin_abi().major) + "." +
                           std::to_string(v->plugin_abi().minor),
                       join_operations(v->manifest()), v->sha256().substr(0, 12)});
    }
    table.print(out);
}

void report_scan(const ScanReport& scan) {
    for (const auto& v : scan.installed) log_info("junctiond", "connector ready: " + v->id());
    for (const auto& r : scan.refused)
        log_warn("junctiond", "package refused: " + r.file.string() + ": " + r.reason);
}

}  // namespace

int main(int argc, char** argv) {
    int exit_code = 0;
    auto options = junction::daemon::parse_daemon_options(argc, argv, exit_code);
    if (!options) return exit_code;
    configure_log({LogLevel::info, options->log_json});

    try {
        ::umask(077);
        fs::create_directories(options->state_dir);
        fs::permissions(options->state_dir, fs::perms::owner_all, fs::perm_options::replace);
        fs::create_directories(options->plugin_dir);

        // Block the signals we handle before any thread starts, then wait for them.
        sigset_t signals;
        sigemptyset(&signals);
        for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);

        ConnectorRegistry registry(options->state_dir / "plugins");
        report_scan(registry.scan(options->plugin_dir));

        if (options->print_registry) {
            print_registry(registry, std::cout);
            return 0;
        }
        log_info("junctiond", "running; plugin folder " + options->plugin_dir.string() +
                                  " (SIGHUP rescans, SIGTERM stops)");
        for (;;) {
            int sig = 0;
            sigwait(&signals, &sig);
            if (sig == SIGHUP) {
                log_info("junctiond", "SIGHUP: rescanning the plugin folder");
                report_scan(registry.scan(options->plugin_dir));
                continue;
            }
            log_info("junctiond", std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
            return 0;
        }
    } catch (const Error& e) {
        log_error("junctiond", e.what());
        return 1;
    } catch (const std::exception& e) {
        log_error("junctiond", std::string("fatal: ") + e.what());
        return 1;
    }
}
