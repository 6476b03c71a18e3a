// junctiond's settings. Each comes from, in order of precedence: a flag, a JUNCTION_*
// environment variable (JUNCTION_STATE_DIR for --state-dir...), the config file
// (--config, "key = value" lines with the flag names as keys), then the default.
// docs/junctiond.md lists every key with its default.
#pragma once

#include <junction/core/common/json.hpp>
#include <junction/core/flows/retention.hpp>
#include <junction/core/flows/webhook_rate_limit.hpp>
#include <junction/core/host_core.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace junction::daemon {

struct DaemonOptions {
    std::filesystem::path state_dir = "/var/lib/junction";
    std::string store;                 // "": SQLite in state_dir; else a PostgreSQL URL
    std::filesystem::path plugin_dir;  // default <state-dir>/drop
    std::string listen_address = "127.0.0.1";
    uint16_t listen_port = 8750;
    bool print_registry = false;  // load, print the registry, exit
    bool print_routes = false;    // print the route table (checked against openapi.json), exit
    bool rotate_key = false;      // re-encrypt every credential under a new master key, exit
    bool log_json = false;
    std::string plugin_watch = "inotify";  // "inotify" (falls back to polling), "poll", "off"
    std::string marketplace;                // catalogue directory or http(s) URL; "" = none
    std::filesystem::path marketplace_key;  // the publisher's Ed25519 public key (PEM)
    std::string ca_file;                    // CAs trusted for outbound HTTPS, empty: system
    bool allow_unsigned_drops = false;      // install unsigned packages (folder and API uploads)
    bool allow_unsigned_from_store = false;  // install unsigned packages other hosts put in the store
    std::filesystem::path trusted_keys;     // a folder of more trusted publisher keys (*.pem, *.pub)
    size_t max_upload_bytes = size_t{64} << 20;  // the largest package uploaded through the API
    std::string tls_cert, tls_key;          // both set: the admin API serves HTTPS
    unsigned run_workers = 4;               // flow runs executing at once
    unsigned stop_grace_seconds = 20;       // how long a stop waits for flow pages in hand
    core::RetentionPolicy retention;        // retention-*: runs and de-dupe keys kept per flow
    unsigned retention_interval_seconds = 300;  // between pruning passes
    core::WebhookRateLimit webhook_rate_limit;  // webhook-rate-*: calls a flow accepts
    std::string log_level = "info";
    std::string config_file;                // "" when none; SIGHUP re-reads it
    bool print_version = false;  // print the version, exit
    // Safe mode: no interrupted run resumed, no schedule fired, no plugin folder scan or
    // watch, so an operator can always get the API up and look.
    bool safe_mode = false;
    core::JsonLimits json_limits;           // json-max-depth, max-*-bytes (decision 0013)
    unsigned header_timeout_seconds = 10;   // a request's headers must arrive within this
    unsigned request_timeout_seconds = 60;  // and its body within this after the headers
    unsigned max_connections_per_client = 64;  // open admin API connections per client address
    // isolation, connector-* and [connector.NAME] sections (decision 0015).
    core::ConnectorLoadPolicy connectors;
};

// The connector settings as text, one line per connector (to see whether a reload changed them).
std::string connector_settings_text(const core::ConnectorLoadPolicy& policy);

// Parses argv; prints help or a usage error and returns nullopt with `exit_code` set when
// the process should stop.
std::optional<DaemonOptions> parse_daemon_options(int argc, char** argv, int& exit_code);

// The same, again (SIGHUP): throws std::runtime_error saying what is wrong, so the daemon
// keeps its running settings.
DaemonOptions reread_daemon_options(int argc, char** argv);

}  // namespace junction::daemon
