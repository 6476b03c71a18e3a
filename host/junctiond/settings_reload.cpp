#include "settings_reload.hpp"

#include <junction/core/common/log.hpp>

#include <string>
#include <vector>

namespace junction::daemon {

using namespace junction::core;

LogOptions log_options(const DaemonOptions& o) {
    const LogLevel level = o.log_level == "debug" ? LogLevel::debug
                           : o.log_level == "warn" ? LogLevel::warn
                           : o.log_level == "error" ? LogLevel::error
                                                    : LogLevel::info;
    return {level, o.log_json};
}

std::optional<TlsFiles> tls_files(const DaemonOptions& o) {
    if (o.tls_cert.empty()) return std::nullopt;
    return TlsFiles{o.tls_cert, o.tls_key};
}

void reload_settings(int argc, char** argv, DaemonOptions& running, AdminServer& server) {
    DaemonOptions next;
    try {
        next = reread_daemon_options(argc, argv);
    } catch (const std::exception& e) {
        log_error("junctiond", std::string("SIGHUP: the settings were not reloaded: ") + e.what() +
                                   "; the daemon keeps running with its current settings");
        return;
    }
    configure_log(log_options(next));
    running.log_level = next.log_level;
    running.log_json = next.log_json;
    running.stop_grace_seconds = next.stop_grace_seconds;
    core::set_json_limits(next.json_limits);
    std::vector<std::string> restart;
    auto needs_restart = [&](const char* key, bool changed) {
        if (changed) restart.push_back(key);
    };
    needs_restart("state-dir", next.state_dir != running.state_dir);
    needs_restart("store", next.store != running.store);
    needs_restart("plugin-dir", next.plugin_dir != running.plugin_dir);
    needs_restart("listen", next.listen_address != running.listen_address || next.listen_port != running.listen_port);
    needs_restart("plugin-watch", next.plugin_watch != running.plugin_watch);
    needs_restart("marketplace", next.marketplace != running.marketplace);
    needs_restart("marketplace-key", next.marketplace_key != running.marketplace_key);
    needs_restart("allow-unsigned-drops", next.allow_unsigned_drops != running.allow_unsigned_drops);
    needs_restart("allow-unsigned-from-store", next.allow_unsigned_from_store != running.allow_unsigned_from_store);
    needs_restart("trusted-keys (the folder; keys added to it count at once)", next.trusted_keys != running.trusted_keys);
    needs_restart("max-upload-bytes", next.max_upload_bytes != running.max_upload_bytes);
    needs_restart("ca-file", next.ca_file != running.ca_file);
    needs_restart("run-workers", next.run_workers != running.run_workers);
    needs_restart("retention-*", next.retention.run_days != running.retention.run_days ||
                                     next.retention.runs != running.retention.runs ||
                                     next.retention.dedupe_key_days != running.retention.dedupe_key_days ||
                                     next.retention_interval_seconds != running.retention_interval_seconds);
    needs_restart("webhook-rate-*", next.webhook_rate_limit != running.webhook_rate_limit);
    needs_restart("isolation and connector-* settings",
                  connector_settings_text(next.connectors) != connector_settings_text(running.connectors));
    needs_restart("tls-cert/tls-key (on or off)", next.tls_cert.empty() != running.tls_cert.empty());
    // The transport's settings are read once, when the admin server starts.
    needs_restart("header-timeout", next.header_timeout_seconds != running.header_timeout_seconds);
    needs_restart("request-timeout", next.request_timeout_seconds != running.request_timeout_seconds);
    needs_restart("max-connections-per-client", next.max_connections_per_client != running.max_connections_per_client);
    needs_restart("max-webhook-bytes (the body read; parsing uses the new value now)",
                  next.json_limits.max_webhook_bytes > running.json_limits.max_webhook_bytes);
    running.json_limits = next.json_limits;
    if (server.tls() && !next.tls_cert.empty()) {
        try {
            server.reload_tls(*tls_files(next));
            running.tls_cert = next.tls_cert;
            running.tls_key = next.tls_key;
            log_info("junctiond", "SIGHUP: TLS certificate reloaded from " + next.tls_cert);
        } catch (const std::exception& e) {
            log_error("junctiond", std::string("SIGHUP: ") + e.what() + "; new connections keep the current certificate");
        }
    }
    std::string keys;
    for (const auto& k : restart) keys += (keys.empty() ? "" : ", ") + k;
    log_info("junctiond", "SIGHUP: settings reloaded (log-level " + running.log_level + ", stop-grace " +
                              std::to_string(running.stop_grace_seconds) + " s)" +
                              (keys.empty() ? "" : "; changed but applied only at the next restart: " + keys));
}

}  // namespace junction::daemon
