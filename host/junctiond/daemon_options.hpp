// junctiond's settings: flags over JUNCTION_* environment variables over defaults.
#pragma once

#include <filesystem>
#include <optional>

namespace junction::daemon {

struct DaemonOptions {
    std::filesystem::path state_dir;   // --state-dir, JUNCTION_STATE_DIR, /var/lib/junction
    std::filesystem::path plugin_dir;  // --plugin-dir, JUNCTION_PLUGIN_DIR, <state-dir>/drop
    bool print_registry = false;       // load, print the registry, exit
    bool log_json = false;
};

// Parses argv; prints help or a usage error and returns nullopt with `exit_code` set when
// the process should stop.
std::optional<DaemonOptions> parse_daemon_options(int argc, char** argv, int& exit_code);

}  // namespace junction::daemon
