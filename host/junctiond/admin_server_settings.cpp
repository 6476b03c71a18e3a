#include "admin_server_settings.hpp"

namespace junction::daemon {

void apply_transport_settings(const DaemonOptions& daemon, ServerOptions& server) {
    server.header_timeout_seconds = daemon.header_timeout_seconds;
    server.request_timeout_seconds = daemon.request_timeout_seconds;
    server.max_connections_per_client = daemon.max_connections_per_client;
}

}  // namespace junction::daemon
