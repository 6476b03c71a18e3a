#include "service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace junction::daemon {

namespace {

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

}  // namespace

void notify_ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void notify_reloading() { notify("RELOADING=1"); }

void notify_stopping(std::string_view status) { notify("STOPPING=1\nSTATUS=" + std::string(status)); }

}  // namespace junction::daemon
