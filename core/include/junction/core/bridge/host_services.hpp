// The host side of the ABI's handles: what a jn_host_instance and a jn_call are, and the
// jn_host_api table every loaded plugin receives.
#pragma once

#include <junction/core/common/counter_table.hpp>
#include <junction/core/net/http_client.hpp>
#include <junction/core/instances/instance_state.hpp>
#include <junction/core/secrets/redactor.hpp>
#include <junction/plugin_api.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

// Per instance: stable address from instance_create until instance_destroy returns.
struct jn_host_instance {
    std::string log_component;  // "jsonl@1.0.0/orders-uk"
    // The instance's secret settings: its log lines are redacted with it, like its errors,
    // whether it runs in this process or logs through a connector process.
    // Grows when the connector replaces a credential (credential_swap): under redactor_mutex.
    junction::core::Redactor redactor;
    mutable std::mutex redactor_mutex;
    std::string redact(std::string text) const {
        std::lock_guard lock(redactor_mutex);
        return redactor.apply(std::move(text));
    }
    junction::core::InstanceState* state = nullptr;
    junction::core::HttpClient* http = nullptr;
    junction::core::CounterPair* http_counters = nullptr;  // calls, errors; may be null
};

// Per call: lives on the host's stack for the duration of one connector function.
struct jn_call {
    // Receives each emitted JSON result. May throw: the host turns that into a cancelled
    // call and keeps the message, so nothing unwinds through the plugin.
    const std::function<void(std::string_view json)>* on_emit = nullptr;
    jn_host_instance* instance = nullptr;  // null for describe
    const std::atomic<bool>* cancelled = nullptr;
    // The caller's bound on HTTP requests in flight (a send shape's concurrency), shared
    // with its other calls; null: one request at a time.
    junction::core::RequestSlots* request_slots = nullptr;
    // When the call must be over (a connector process's call deadline): its HTTP requests
    // get no more than what is left.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    // Receives call_log lines (level, redacted text) for whoever made the call; may be null.
    const std::function<void(uint32_t level, std::string_view line)>* on_log = nullptr;
    int log_lines = 0;       // call_log lines passed to on_log so far
    std::string error;       // the last set_error, or why the host stopped the call
    bool host_failed = false;  // on_emit threw: the failure is the host's, not the plugin's
};

namespace junction::core {

// The table handed to plugins at negotiation; static, valid for the process's life.
const jn_host_api* host_api_table();

}  // namespace junction::core
