// Starting a connector process: junction-connector-host with the library to load, its
// limits and its folder on the command line, its socket as fd 3, its stderr a pipe to
// junctiond, stdout /dev/null, and an environment of its own (nothing of junctiond's:
// JUNCTION_MASTER_KEY and the like never reach a connector).
#pragma once

#include <junction/core/bridge/process/connector_process_options.hpp>

#include <filesystem>

#include <sys/types.h>

namespace junction::core {

struct SpawnedProcess {
    pid_t pid = -1;
    int channel_fd = -1;  // junctiond's end of the socket
    int stderr_fd = -1;   // the read end of the process's stderr
};

// Throws Error(plugin_rejected) when the program is missing or cannot be started.
SpawnedProcess spawn_connector_process(const ConnectorProcessOptions& options, const std::filesystem::path& library);

// The connector host program junctiond runs: options.program, or the one beside the
// running executable.
std::filesystem::path connector_host_program(const ConnectorProcessOptions& options);

}  // namespace junction::core
