#include "admin_server_settings.hpp"

namespace junction::daemon {

void apply_transport_settings(const DaemonOptions& daemon, ServerOptions& server) {
    server.header_timeout_seconds = daemon.header_timeout_seconds;
    server.request_timeout_seconds = daemon.request_timeout_seconds;
    server.max_connections_per_client = daemon.max_connections_per_client;
    // Webhook bodies come from other systems and have their own bound (max-webhook-bytes).
    // Package uploads are libraries, larger than any JSON body (max-upload-bytes).
    server.path_body_limits = {{"/hooks/", daemon.json_limits.max_webhook_bytes, "max-webhook-bytes"},
                               {"/v1/connectors/upload", daemon.max_upload_bytes, "max-upload-bytes", true}};
}

}  // namespace junction::daemon
