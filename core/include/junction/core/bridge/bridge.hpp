// How a call reaches a loaded connector version and its instances: a library loaded in this
// process (in_process.cpp), or one loaded by a connector process (process/). ConnectorVersion
// and ConnectorInstance (connector.hpp) hold one of each, so nothing above them knows which.
//
// Every call takes the host side of the call, a jn_call (host_services.hpp): where emitted
// JSON goes, the caller's cancel flag, and the error the plugin sets. A bridge returns the
// plugin's status, or a status of its own with jn_call::error saying why (a connector
// process that ended, a deadline); ConnectorVersion turns either into an Error.
#pragma once

#include <junction/core/bridge/host_services.hpp>
#include <junction/core/loading/plugin_library.hpp>

#include <memory>
#include <string_view>

namespace junction::core {

enum class Isolation { process, in_process };

// "process" or "in-process", as settings, the API and /metrics spell it.
const char* isolation_name(Isolation isolation);

class InstanceBridge {
public:
    virtual ~InstanceBridge() = default;  // instance_destroy
    // False once the instance cannot take calls any more (its connector process ended): a
    // new one must be made, from the instance's config.
    virtual bool usable() const { return true; }
    virtual jn_status test_connection(jn_call& call) = 0;
    virtual jn_status invoke(std::string_view operation, std::string_view request_json, jn_call& call) = 0;
};

class VersionBridge {
public:
    virtual ~VersionBridge() = default;
    virtual Isolation isolation() const = 0;
    virtual AbiVersion plugin_abi() const = 0;
    virtual bool offers_migration() const = 0;

    // instance_create. On JN_OK `out` is the instance; `host` outlives it.
    virtual jn_status create_instance(std::string_view instance_id, std::string_view config_json,
                                      jn_host_instance* host, jn_call& call,
                                      std::unique_ptr<InstanceBridge>& out) = 0;
    // migrate_config (only when offers_migration()).
    virtual jn_status migrate_config(std::string_view from_version, std::string_view config_json,
                                     jn_call& call) = 0;

    // Its connector process may end once nothing uses it (an engine, which runs no
    // instance of its own). Nothing to do for a version loaded in this process.
    virtual void let_process_end() {}

    // Lets calls through again after a quarantine (`junction connectors release`): the count
    // of recent crashes starts over. Nothing to do for a version loaded in this process.
    virtual void lift_quarantine() {}
};

// Loads `library` in this process (checks, dlopen, negotiation) and emits its manifest into
// `call`: describe(), or with `definition` the manifest definition_open makes of it (the
// library is then an engine). Throws Error(plugin_rejected) when the file itself is wrong;
// `status` is describe's or definition_open's.
std::unique_ptr<VersionBridge> open_in_process(const std::filesystem::path& library,
                                               const std::string* definition, jn_call& call,
                                               jn_status& status);

}  // namespace junction::core
