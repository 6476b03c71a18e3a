#include "daemon_options.hpp"

#include <boost/program_options.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace junction::daemon {

namespace po = boost::program_options;

namespace {

po::options_description settings() {
    po::options_description s("Settings (flag, JUNCTION_<NAME> environment variable, or config file key)");
    s.add_options()(
        "state-dir", po::value<std::string>()->default_value("/var/lib/junction"),
        "where Junction keeps its store, master key, admin token and installed connectors")(
        "plugin-dir", po::value<std::string>(),
        "folder scanned for connector packages (default <state-dir>/drop)")(
        "listen", po::value<std::string>()->default_value("127.0.0.1:8750"),
        "address:port of the admin API")(
        "plugin-watch", po::value<std::string>()->default_value("inotify"),
        "how new packages in the plugin folder are noticed: inotify (polling where it is "
        "unavailable), poll, or off (SIGHUP only)")(
        "marketplace", po::value<std::string>()->default_value(""),
        "the marketplace catalogue: a directory or http(s) URL holding index.json")(
        "marketplace-key", po::value<std::string>()->default_value(""),
        "the publisher's Ed25519 public key (PEM file) that packages must be signed with")(
        "allow-unsigned-drops", po::value<bool>()->default_value(false)->implicit_value(true),
        "install packages from the plugin folder without a valid signature (<file>.sig)")(
        "ca-file", po::value<std::string>()->default_value(""),
        "PEM bundle of the CAs trusted for outbound HTTPS (catalogue, connectors) instead of "
        "the system's")(
        "tls-cert", po::value<std::string>()->default_value(""),
        "PEM certificate chain for the admin API: with tls-key, it serves HTTPS")(
        "tls-key", po::value<std::string>()->default_value(""), "PEM private key of tls-cert")(
        "run-workers", po::value<unsigned>()->default_value(4),
        "flow runs executing at once; more wait, queued")(
        "stop-grace", po::value<unsigned>()->default_value(20),
        "seconds a stop (SIGTERM, SIGINT) lets running flow pages finish before it stops them; "
        "either way runs resume from their last checkpoint at the next start")(
        "log-level", po::value<std::string>()->default_value("info"), "debug, info, warn or error")(
        "log-json", po::value<bool>()->default_value(false)->implicit_value(true),
        "write log lines as JSON objects");
    // Bounds on untrusted JSON (decision 0013).
    s.add_options()(
        "json-max-depth", po::value<size_t>()->default_value(128),
        "how deep JSON may nest (request bodies, webhooks, flows, manifests, pages): deeper is refused")(
        "max-manifest-bytes", po::value<size_t>()->default_value(size_t{1} << 20),
        "the largest connector manifest or describe() output, in bytes")(
        "max-record-bytes", po::value<size_t>()->default_value(size_t{16} << 20),
        "the largest single record (a run's payload), in bytes")(
        "max-page-bytes", po::value<size_t>()->default_value(size_t{64} << 20),
        "the largest page a connector may emit, in bytes; a larger one fails the run")(
        "max-webhook-bytes", po::value<size_t>()->default_value(size_t{1} << 20),
        "the largest webhook body, in bytes (other API bodies stay within 1 MiB)");
    s.add_options()(
        "header-timeout", po::value<unsigned>()->default_value(10),
        "seconds a client has to send a request's headers (and an idle keep-alive connection "
        "stays open); slower ones are closed")(
        "request-timeout", po::value<unsigned>()->default_value(60),
        "seconds a client has to send a request's body once its headers arrived")(
        "max-connections-per-client", po::value<unsigned>()->default_value(64),
        "open admin API connections one client address may hold; more are answered 429 and closed");
    return s;
}

// JUNCTION_STATE_DIR -> state-dir, for the settings only (not JUNCTION_MASTER_KEY).
std::string env_to_option(const std::string& variable, const po::options_description& known) {
    constexpr std::string_view prefix = "JUNCTION_";
    if (variable.rfind(prefix, 0) != 0) return "";
    std::string name;
    for (char c : variable.substr(prefix.size()))
        name.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return known.find_nothrow(name, false) ? name : "";
}

bool split_listen(const std::string& text, DaemonOptions& o) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    try {
        const int port = std::stoi(text.substr(colon + 1));
        if (port < 0 || port > 65535) return false;
        o.listen_address = text.substr(0, colon);
        o.listen_port = static_cast<uint16_t>(port);
        return !o.listen_address.empty();
    } catch (const std::exception&) {
        return false;
    }
}

// Reads flags, environment and config file; throws std::runtime_error saying what is wrong.
// `help` is set when --help was asked for (nothing else is read then).
DaemonOptions read_options(int argc, char** argv, const po::options_description& all,
                           const po::options_description& s, bool& help) {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, all), vm);
    po::store(po::parse_environment(s, [&](const std::string& v) { return env_to_option(v, s); }), vm);
    if (vm.count("config")) {
        const std::string file = vm["config"].as<std::string>();
        std::ifstream in(file);
        if (!in) throw std::runtime_error("cannot read config file " + file);
        po::store(po::parse_config_file(in, s), vm);
    }
    po::notify(vm);
    help = vm.count("help") > 0;
    DaemonOptions o;
    if (help) return o;
    if (vm.count("config")) o.config_file = vm["config"].as<std::string>();
    o.state_dir = vm["state-dir"].as<std::string>();
    o.plugin_dir = vm.count("plugin-dir") ? std::filesystem::path(vm["plugin-dir"].as<std::string>())
                                          : o.state_dir / "drop";
    if (!split_listen(vm["listen"].as<std::string>(), o))
        throw std::runtime_error("listen must be ADDRESS:PORT, for example 127.0.0.1:8750");
    o.print_registry = vm.count("print-registry") > 0;
    o.print_routes = vm.count("print-routes") > 0;
    o.rotate_key = vm.count("rotate-key") > 0;
    o.log_json = vm["log-json"].as<bool>();
    o.log_level = vm["log-level"].as<std::string>();
    if (o.log_level != "debug" && o.log_level != "info" && o.log_level != "warn" && o.log_level != "error")
        throw std::runtime_error("log-level must be debug, info, warn or error");
    o.plugin_watch = vm["plugin-watch"].as<std::string>();
    o.marketplace = vm["marketplace"].as<std::string>();
    o.marketplace_key = vm["marketplace-key"].as<std::string>();
    o.allow_unsigned_drops = vm["allow-unsigned-drops"].as<bool>();
    o.ca_file = vm["ca-file"].as<std::string>();
    if (!o.ca_file.empty() && !std::filesystem::is_regular_file(o.ca_file))
        throw std::runtime_error("ca-file " + o.ca_file + " is not a readable file; give a PEM bundle of CA certificates");
    if (o.plugin_watch != "inotify" && o.plugin_watch != "poll" && o.plugin_watch != "off")
        throw std::runtime_error("plugin-watch must be inotify, poll or off");
    o.tls_cert = vm["tls-cert"].as<std::string>();
    o.tls_key = vm["tls-key"].as<std::string>();
    if (o.tls_cert.empty() != o.tls_key.empty())
        throw std::runtime_error("tls-cert and tls-key go together: give both for HTTPS, or neither");
    for (const auto& file : {o.tls_cert, o.tls_key})
        if (!file.empty() && !std::filesystem::is_regular_file(file))
            throw std::runtime_error(file + " is not a readable file (tls-cert, tls-key)");
    o.run_workers = vm["run-workers"].as<unsigned>();
    if (o.run_workers < 1 || o.run_workers > 256) throw std::runtime_error("run-workers must be 1 to 256");
    o.stop_grace_seconds = vm["stop-grace"].as<unsigned>();
    o.print_version = vm.count("version") > 0;
    o.safe_mode = vm.count("safe") > 0;
    o.json_limits.max_depth = vm["json-max-depth"].as<size_t>();
    // Serialising and schema checks recurse on what was read: keep the cap far from the stack.
    if (o.json_limits.max_depth < 1 || o.json_limits.max_depth > 1000)
        throw std::runtime_error("json-max-depth must be 1 to 1000");
    o.json_limits.max_manifest_bytes = vm["max-manifest-bytes"].as<size_t>();
    o.json_limits.max_record_bytes = vm["max-record-bytes"].as<size_t>();
    o.json_limits.max_page_bytes = vm["max-page-bytes"].as<size_t>();
    o.json_limits.max_webhook_bytes = vm["max-webhook-bytes"].as<size_t>();
    for (const char* key : {"max-manifest-bytes", "max-record-bytes", "max-page-bytes", "max-webhook-bytes"})
        if (vm[key].as<size_t>() < 2) throw std::runtime_error(std::string(key) + " must be at least 2 bytes");
    o.header_timeout_seconds = vm["header-timeout"].as<unsigned>();
    o.request_timeout_seconds = vm["request-timeout"].as<unsigned>();
    o.max_connections_per_client = vm["max-connections-per-client"].as<unsigned>();
    if (o.header_timeout_seconds < 1 || o.request_timeout_seconds < 1)
        throw std::runtime_error("header-timeout and request-timeout must be at least 1 second");
    if (o.max_connections_per_client < 1)
        throw std::runtime_error("max-connections-per-client must be at least 1");
    return o;
}

struct Descriptions {
    po::options_description modes{"Usage: junctiond [options]\n\nOptions"};
    po::options_description settings = junction::daemon::settings();
    po::options_description all;
    Descriptions() {
        modes.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                         "read settings from this file (SIGHUP re-reads it)")(
            "print-registry", "load the connectors, print them and exit")(
            "print-routes", "print the admin API's routes (METHOD PATH) and exit")(
            "rotate-key",
            "re-encrypt every stored credential under a new master key and exit (with "
            "JUNCTION_MASTER_KEY set, the new key comes from JUNCTION_NEW_MASTER_KEY)");
        modes.add_options()("version", "print the version and exit")(
            "safe",
            "start in safe mode: resume no interrupted run, fire no schedule, do not scan or "
            "watch the plugin folder; the API answers so you can look (restart without --safe "
            "to leave it)");
        all.add(modes).add(settings);
    }
};

}  // namespace

std::optional<DaemonOptions> parse_daemon_options(int argc, char** argv, int& exit_code) {
    const Descriptions d;
    try {
        bool help = false;
        DaemonOptions o = read_options(argc, argv, d.all, d.settings, help);
        if (help) {
            std::cout << d.all << "\n";
            exit_code = 0;
            return std::nullopt;
        }
        return o;
    } catch (const std::exception& e) {
        std::cerr << "junctiond: " << e.what() << "\n\n" << d.all << "\n";
        exit_code = 2;
        return std::nullopt;
    }
}

DaemonOptions reread_daemon_options(int argc, char** argv) {
    const Descriptions d;
    bool help = false;
    return read_options(argc, argv, d.all, d.settings, help);
}

}  // namespace junction::daemon
