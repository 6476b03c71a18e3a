// The settings that follow from DaemonOptions at start, and what SIGHUP changes later:
// the config file (and flags, environment) read again. Logging, the stop grace and the TLS
// certificate change at once; settings the running parts were built from are named in the
// log and wait for a restart. A config that does not parse changes nothing.
#pragma once

#include "admin_server.hpp"
#include "daemon_options.hpp"

#include <junction/core/common/log.hpp>

#include <optional>

namespace junction::daemon {

core::LogOptions log_options(const DaemonOptions& options);
std::optional<TlsFiles> tls_files(const DaemonOptions& options);

// SIGHUP. `running` is updated to what now applies.
void reload_settings(int argc, char** argv, DaemonOptions& running, AdminServer& server);

}  // namespace junction::daemon
