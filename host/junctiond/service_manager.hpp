// Telling a service manager (systemd, Type=notify) where the daemon is in its life:
// ready once the admin API listens, reloading on SIGHUP, stopping on SIGTERM. Does nothing
// when the daemon was not started by one (no NOTIFY_SOCKET).
#pragma once

#include <string_view>

namespace junction::daemon {

void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping(std::string_view status);

}  // namespace junction::daemon
