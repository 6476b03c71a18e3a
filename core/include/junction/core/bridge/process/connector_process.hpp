// The process bridge: a connector version whose library is loaded by a connector process
// (junction-connector-host) and called over its socket. See docs/decisions/0015.
#pragma once

#include <junction/core/bridge/bridge.hpp>
#include <junction/core/bridge/process/connector_process_options.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace junction::core {

// Starts a connector process for `library` and emits the manifest into `call` as
// open_in_process does. Throws Error(plugin_rejected) when the library cannot be loaded or
// the process cannot start; `status` is describe's or definition_open's.
std::unique_ptr<VersionBridge> open_in_connector_process(const ConnectorProcessOptions& options,
                                                         const std::filesystem::path& library,
                                                         const std::string* definition, jn_call& call,
                                                         jn_status& status);

}  // namespace junction::core
