// The admin server's transport settings (timeouts, per-client cap) from the daemon's.
#pragma once

#include "admin_server.hpp"
#include "daemon_options.hpp"

namespace junction::daemon {

void apply_transport_settings(const DaemonOptions& daemon, ServerOptions& server);

}  // namespace junction::daemon
