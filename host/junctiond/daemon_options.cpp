#include "daemon_options.hpp"

#include <boost/program_options.hpp>

#include <cctype>
#include <chrono>
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
        "store", po::value<std::string>()->default_value(""),
        "where instances, flows and runs are kept: empty for SQLite in the state directory (one "
        "host), or postgresql://USER@HOST:PORT/DATABASE, shared by several hosts (docs/cluster.md). "
        "Give the password in PGPASSWORD or a password file (PGPASSFILE, ~/.pgpass), not in the URL")(
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
        "install packages without a signature: dropped without <file>.sig, or uploaded through the "
        "API without one (a signature that no trusted key made is refused all the same)")(
        "allow-unsigned-from-store", po::value<bool>()->default_value(false)->implicit_value(true),
        "on a shared store: install the unsigned packages another host installed (anyone who can write "
        "to the database could then run code on this host; for development only)")(
        "trusted-keys", po::value<std::string>()->default_value(""),
        "a folder of Ed25519 public keys (*.pem, *.pub) trusted besides marketplace-key: the "
        "operator's own, another publisher's, a rotated key. Read at each check")(
        "ca-file", po::value<std::string>()->default_value(""),
        "PEM bundle of the CAs trusted for outbound HTTPS (catalogue, connectors) instead of "
        "the system's")(
        "tls-cert", po::value<std::string>()->default_value(""),
        "PEM certificate chain for the admin API: with tls-key, it serves HTTPS")(
        "tls-key", po::value<std::string>()->default_value(""), "PEM private key of tls-cert")(
        "run-workers", po::value<unsigned>()->default_value(4),
        "flow runs executing at once; more wait, queued")(
        "stop-grace", po::value<unsigned>()->default_value(20),
        "seconds a stop (SIGTERM, SIGINT) lets running flow pages finish before it stops them (and "
        "cancels connector calls still running); either way runs resume from their last checkpoint at "
        "the next start")(
        "retention-run-days", po::value<int64_t>()->default_value(30),
        "days a flow's finished runs (with their log and failed records) are kept; 0: no age limit. A flow's "
        "\"retention\" overrides it. Queued and running runs, and runs an open retry resumes from, are never pruned")(
        "retention-runs", po::value<int64_t>()->default_value(1000),
        "the newest runs kept per flow, older ones are pruned; 0: no count limit")(
        "retention-dedupe-key-days", po::value<int64_t>()->default_value(90),
        "days a flow-scope de-dupe key is remembered; a record with an expired key passes again. 0: forever")(
        "retention-interval", po::value<unsigned>()->default_value(300),
        "seconds between pruning passes (in the background, a few runs per transaction)")(
        "webhook-rate-per-minute", po::value<int64_t>()->default_value(600),
        "webhook calls a flow accepts a minute; more are answered 429 with Retry-After and not stored. "
        "0: no limit. A webhook trigger's \"rate_limit\" overrides it")(
        "webhook-rate-burst", po::value<int64_t>()->default_value(60),
        "webhook calls a quiet flow accepts at once, above the rate")(
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
        "the largest webhook body, in bytes (other API bodies stay within 1 MiB)")(
        "max-upload-bytes", po::value<size_t>()->default_value(size_t{64} << 20),
        "the largest connector package uploaded through the admin API, in bytes");
    s.add_options()(
        "header-timeout", po::value<unsigned>()->default_value(10),
        "seconds a client has to send a request's headers (and an idle keep-alive connection "
        "stays open); slower ones are closed")(
        "request-timeout", po::value<unsigned>()->default_value(60),
        "seconds a client has to send a request's body once its headers arrived")(
        "max-connections-per-client", po::value<unsigned>()->default_value(64),
        "open admin API connections one client address may hold; more are answered 429 and closed");
    // Connector processes (decision 0015). Each may be set for one connector in a
    // [connector.NAME] section of the config file, without the "connector-" prefix.
    s.add_options()(
        "isolation", po::value<std::string>()->default_value("process"),
        "where connectors run: process (each version in a connector process of its own, with the "
        "limits below) or in-process (inside junctiond: only for connectors you trust with it)")(
        "connector-memory-limit-mb", po::value<uint64_t>()->default_value(1024),
        "the address space a connector process may use, in MiB")(
        "connector-open-files", po::value<uint32_t>()->default_value(256),
        "the files and sockets a connector process may hold open")(
        "connector-deadline-open", po::value<unsigned>()->default_value(30),
        "seconds loading and describing a connector may take")(
        "connector-deadline-create", po::value<unsigned>()->default_value(30),
        "seconds creating an instance may take")(
        "connector-deadline-test-connection", po::value<unsigned>()->default_value(60),
        "seconds a connection test may take")(
        "connector-deadline-invoke", po::value<unsigned>()->default_value(900),
        "seconds one operation (a receive or a send) may take")(
        "connector-deadline-migrate", po::value<unsigned>()->default_value(30),
        "seconds a config migration may take")(
        "connector-kill-grace", po::value<unsigned>()->default_value(5),
        "seconds a call past its deadline (or cancelled) has to return before its connector "
        "process is killed")(
        "connector-crash-limit", po::value<uint32_t>()->default_value(5),
        "unexpected ends of a version's connector process, within connector-crash-window, "
        "that quarantine the version")(
        "connector-crash-window", po::value<unsigned>()->default_value(600), "seconds, see connector-crash-limit")(
        "connector-backoff-max", po::value<unsigned>()->default_value(30),
        "seconds at most between restarts of a connector process that keeps ending (from 0.2 s, doubling)")(
        "connector-confine", po::value<bool>()->default_value(true)->implicit_value(true),
        "confine connector processes with no_new_privs, seccomp and Landlock where the kernel has them")(
        "connector-paths", po::value<std::string>()->default_value(""),
        "folders (separated by ':') connector processes may read and write besides their own "
        "<state-dir>/connector-data/NAME: the files a file connector such as jsonl works on")(
        "connector-host-program", po::value<std::string>()->default_value(""),
        "the junction-connector-host program (default: the one beside junctiond)");
    return s;
}

// One connector setting, from a global key (with the "connector-" prefix, or "isolation")
// or a [connector.NAME] section key (without it). False when `key` is not one.
bool apply_connector_setting(const std::string& key, const std::string& value, core::LoadOptions& o) {
    auto number = [&](uint64_t low, uint64_t high) {
        uint64_t v = 0;
        try {
            size_t used = 0;
            v = std::stoull(value, &used);
            if (used != value.size()) throw std::invalid_argument(value);
        } catch (const std::exception&) {
            throw std::runtime_error(key + " must be a number, not '" + value + "'");
        }
        if (v < low || v > high)
            throw std::runtime_error(key + " must be " + std::to_string(low) + " to " + std::to_string(high));
        return v;
    };
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    auto& p = o.process;
    const std::string k = key.starts_with("connector-") ? key.substr(10) : key;
    if (k == "isolation") {
        if (value != "process" && value != "in-process")
            throw std::runtime_error("isolation must be process or in-process, not '" + value + "'");
        o.isolation = value == "process" ? core::Isolation::process : core::Isolation::in_process;
    } else if (k == "memory-limit-mb") p.memory_limit_mb = number(64, uint64_t{1} << 20);
    else if (k == "open-files") p.max_open_files = static_cast<uint32_t>(number(16, 1 << 20));
    else if (k == "deadline-open") p.deadlines.open = seconds(number(1, 86400));
    else if (k == "deadline-create") p.deadlines.create = seconds(number(1, 86400));
    else if (k == "deadline-test-connection") p.deadlines.test_connection = seconds(number(1, 86400));
    else if (k == "deadline-invoke") p.deadlines.invoke = seconds(number(1, 7 * 86400));
    else if (k == "deadline-migrate") p.deadlines.migrate = seconds(number(1, 86400));
    else if (k == "kill-grace") p.deadlines.grace = seconds(number(1, 600));
    else if (k == "crash-limit") p.crash_limit = static_cast<uint32_t>(number(1, 1000));
    else if (k == "crash-window") p.crash_window = seconds(number(1, 7 * 86400));
    else if (k == "backoff-max") p.backoff_max = seconds(number(1, 3600));
    else if (k == "confine") p.confine = value == "true" || value == "1" || value == "yes" || value == "on";
    else if (k == "host-program") p.program = value;
    else if (k == "paths") {
        p.paths.clear();
        for (size_t at = 0; at <= value.size();) {
            const size_t colon = std::min(value.find(':', at), value.size());
            const std::string folder = value.substr(at, colon - at);
            if (!folder.empty()) {
                if (folder.front() != '/') throw std::runtime_error(key + ": '" + folder + "' is not an absolute path");
                p.paths.emplace_back(folder);
            }
            at = colon + 1;
        }
    }
    else return false;
    return true;
}

// The global connector settings from `vm`, then each [connector.NAME] section's.
core::ConnectorLoadPolicy connector_policy(const po::variables_map& vm,
                                           const std::vector<po::option>& sections) {
    core::ConnectorLoadPolicy policy;
    for (const char* key : {"isolation", "connector-memory-limit-mb", "connector-open-files", "connector-deadline-open",
                            "connector-deadline-create", "connector-deadline-test-connection",
                            "connector-deadline-invoke", "connector-deadline-migrate", "connector-kill-grace",
                            "connector-crash-limit", "connector-crash-window", "connector-backoff-max", "connector-paths",
                            "connector-host-program"}) {
        const auto& v = vm[key].value();
        std::string text;
        if (auto* s = boost::any_cast<std::string>(&v)) text = *s;
        else if (auto* u = boost::any_cast<unsigned>(&v)) text = std::to_string(*u);
        else if (auto* u32 = boost::any_cast<uint32_t>(&v)) text = std::to_string(*u32);
        else if (auto* u64 = boost::any_cast<uint64_t>(&v)) text = std::to_string(*u64);
        if (std::string_view(key) == "connector-host-program" && text.empty()) continue;
        apply_connector_setting(key, text, policy.defaults);
    }
    policy.defaults.process.confine = vm["connector-confine"].as<bool>();
    for (const auto& option : sections) {  // "connector.NAME.key"
        const std::string& name = option.string_key;
        const size_t dot = name.rfind('.');
        if (!name.starts_with("connector.") || dot <= 10 || option.value.size() != 1)
            throw std::runtime_error("unknown setting '" + name + "' in the config file");
        const std::string connector = name.substr(10, dot - 10);
        auto [it, added] = policy.per_connector.try_emplace(connector, policy.defaults);
        if (!apply_connector_setting(name.substr(dot + 1), option.value.front(), it->second))
            throw std::runtime_error("unknown setting '" + name.substr(dot + 1) + "' in [connector." + connector +
                                     "] of the config file; see docs/junctiond.md");
    }
    return policy;
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
    std::vector<po::option> sections;  // [connector.NAME] keys
    if (vm.count("config")) {
        const std::string file = vm["config"].as<std::string>();
        std::ifstream in(file);
        if (!in) throw std::runtime_error("cannot read config file " + file);
        auto parsed = po::parse_config_file(in, s, true);
        for (auto& option : parsed.options)
            if (option.unregistered) sections.push_back(option);
        std::erase_if(parsed.options, [](const po::option& o) { return o.unregistered; });
        po::store(parsed, vm);
    }
    po::notify(vm);
    help = vm.count("help") > 0;
    DaemonOptions o;
    if (help) return o;
    if (vm.count("config")) o.config_file = vm["config"].as<std::string>();
    o.state_dir = vm["state-dir"].as<std::string>();
    o.store = vm["store"].as<std::string>();
    if (!o.store.empty() && !core::is_postgres_location(o.store))
        throw std::runtime_error("store must be empty (SQLite in the state directory) or a PostgreSQL URL, "
                                 "postgresql://USER@HOST:PORT/DATABASE");
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
    o.allow_unsigned_from_store = vm["allow-unsigned-from-store"].as<bool>();
    o.trusted_keys = vm["trusted-keys"].as<std::string>();
    o.max_upload_bytes = vm["max-upload-bytes"].as<size_t>();
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
    auto in_range = [&](const char* key, int64_t low, int64_t high) {
        const int64_t v = vm[key].as<int64_t>();
        if (v < low || v > high)
            throw std::runtime_error(std::string(key) + " must be " + std::to_string(low) + " to " + std::to_string(high));
        return v;
    };
    o.retention.run_days = in_range("retention-run-days", 0, 36500);
    o.retention.runs = in_range("retention-runs", 0, 100'000'000);
    o.retention.dedupe_key_days = in_range("retention-dedupe-key-days", 0, 36500);
    o.retention_interval_seconds = vm["retention-interval"].as<unsigned>();
    if (o.retention_interval_seconds < 1 || o.retention_interval_seconds > 86400)
        throw std::runtime_error("retention-interval must be 1 to 86400 seconds");
    o.webhook_rate_limit.per_minute = in_range("webhook-rate-per-minute", 0, 1'000'000);
    o.webhook_rate_limit.burst = in_range("webhook-rate-burst", 1, 1'000'000);
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
    o.connectors = connector_policy(vm, sections);
    // A connector process may send a page as large as max-page-bytes (a larger one fails
    // its call, as in junctiond), plus room for the frame around it.
    const size_t message_cap = o.json_limits.max_page_bytes + (size_t{1} << 20);
    o.connectors.defaults.process.max_message_bytes = message_cap;
    for (auto& [name, each] : o.connectors.per_connector) each.process.max_message_bytes = message_cap;
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

std::string connector_settings_text(const core::ConnectorLoadPolicy& policy) {
    auto line = [](const std::string& name, const core::LoadOptions& o) {
        const auto& p = o.process;
        const auto& d = p.deadlines;
        return name + ": " + core::isolation_name(o.isolation) + " memory " + std::to_string(p.memory_limit_mb) +
               " files " + std::to_string(p.max_open_files) + " deadlines " + std::to_string(d.open.count()) + "/" +
               std::to_string(d.create.count()) + "/" + std::to_string(d.test_connection.count()) + "/" +
               std::to_string(d.invoke.count()) + "/" + std::to_string(d.migrate.count()) + " grace " +
               std::to_string(d.grace.count()) + " backoff " + std::to_string(p.backoff_max.count()) + " crashes " + std::to_string(p.crash_limit) + "/" +
               std::to_string(p.crash_window.count()) + " confine " + (p.confine ? "yes" : "no") + " program " +
               p.program.string() + " paths " + [&] {
                   std::string t;
                   for (const auto& f : p.paths) t += f.string() + ":";
                   return t;
               }() + "\n";
    };
    std::string text = line("*", policy.defaults);
    for (const auto& [name, o] : policy.per_connector) text += line(name, o);
    return text;
}

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
