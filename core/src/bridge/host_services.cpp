#include <junction/core/bridge/host_services.hpp>

#include <junction/core/common/log.hpp>
#include <junction/core/net/request_slots.hpp>
#include <junction/core/secrets/clear_text.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

namespace junction::core {

namespace {

// The largest state key and value an instance may keep (plugin-abi.md).
constexpr size_t kMaxStateKeyBytes = 1024;
constexpr size_t kMaxStateValueBytes = 1024 * 1024;

std::string_view sv(jn_str s) { return {s.ptr ? s.ptr : "", s.len}; }

LogLevel to_level(uint32_t level) {
    if (level >= JN_LOG_ERROR) return LogLevel::error;
    if (level >= JN_LOG_WARN) return LogLevel::warn;
    if (level >= JN_LOG_INFO) return LogLevel::info;
    return LogLevel::debug;
}

void host_log(jn_host_instance* instance, uint32_t level, jn_str message) {
    if (!instance) return log(to_level(level), "plugin", sv(message));
    log(to_level(level), instance->log_component, instance->redact(std::string(sv(message))));
}

// Counts a request and, when it failed or the answer is a 4xx/5xx, an error.
void count_request(jn_call* call, jn_status status, uint32_t http_status) {
    if (auto* counters = call->instance->http_counters) {
        counters->first.fetch_add(1, std::memory_order_relaxed);
        if (status != JN_OK || http_status >= 400) counters->second.fetch_add(1, std::memory_order_relaxed);
    }
}

// A request as this host knows it: fields a plugin built against an older ABI did not
// know are zero.
jn_http_request known_part(const jn_http_request& request) {
    jn_http_request copy{};
    std::memcpy(&copy, &request, std::min<size_t>(request.struct_size, sizeof copy));
    return copy;
}

bool can_send(jn_call* call) {
    if (call->instance && call->instance->http) return true;
    call->error = "outbound HTTP is only available inside instance calls";
    return false;
}

// The batch's requests run at once, as many in flight as the call's request slots grant
// (one at a time without them); results go back in index order on the calling thread.
jn_status host_http_request_batch(jn_call* call, const jn_http_request* const* requests, size_t count,
                                  jn_http_result_fn on_result, void* user) {
    if (!call || (!requests && count > 0) || !on_result) return JN_ERR_INVALID_REQUEST;
    if (count > JN_HTTP_BATCH_MAX) return JN_ERR_TOO_LARGE;
    if (count == 0) return JN_OK;
    if (!can_send(call)) {
        for (size_t i = 0; i < count; ++i) on_result(user, i, JN_ERR_UNSUPPORTED, nullptr);
        return JN_OK;
    }
    std::vector<jn_http_request> known(count);
    std::vector<const jn_http_request*> pointers(count, nullptr);
    for (size_t i = 0; i < count; ++i)
        if (requests[i]) {
            known[i] = known_part(*requests[i]);
            pointers[i] = &known[i];
        }
    size_t handed = 0;  // results the plugin has had, in index order
    try {
        call->instance->http->perform_many(
            pointers.data(), count,
            [&](size_t index, jn_status status, const jn_http_response* response, const std::string& error) {
                if (status != JN_OK) call->error = "HTTP request failed: " + error;
                count_request(call, status, response ? response->status_code : 0);
                handed = index + 1;
                on_result(user, index, status, response);
            },
            call->cancelled, call->request_slots, call->deadline);
    } catch (const std::exception& e) {
        // Nothing unwinds into the plugin, and every request still gets its one result.
        call->error = std::string("HTTP request failed: the host could not perform it: ") + e.what();
        for (size_t i = handed; i < count; ++i) on_result(user, i, JN_ERR_TRANSIENT, nullptr);
    }
    return JN_OK;
}

// One request is a batch of one: the same slot, deadline and cancel rules, and nothing
// thrown into the plugin. The answer reaches it after the request's slot is given back.
jn_status host_http_request(jn_call* call, const jn_http_request* request,
                            jn_http_response_fn on_response, void* user) {
    if (!call || !request || !on_response) return JN_ERR_INVALID_REQUEST;
    if (!can_send(call)) return JN_ERR_UNSUPPORTED;
    struct One {
        jn_http_response_fn on_response;
        void* user;
        bool handing_results;  // as the plugin called: a request it makes from the answer waits as any other
        jn_status status = JN_ERR_TRANSIENT;
    } one{on_response, user, RequestSlots::handing_results()};
    host_http_request_batch(call, &request, 1, [](void* u, size_t, jn_status status, const jn_http_response* response) {
        auto* o = static_cast<One*>(u);
        o->status = status == JN_OK && !response ? JN_ERR_TRANSIENT : status;
        if (o->status != JN_OK) return;
        const bool batch = std::exchange(RequestSlots::handing_results(), o->handing_results);
        o->on_response(o->user, response);
        RequestSlots::handing_results() = batch;
    }, &one);
    return one.status;
}

jn_status host_state_get(jn_host_instance* instance, jn_str key, jn_value_fn sink, void* user) {
    if (!instance || !instance->state || !sink) return JN_ERR_INVALID_REQUEST;
    try {
        auto value = instance->state->get(sv(key));
        if (!value) return JN_ERR_NOT_FOUND;
        sink(user, jn_str{value->data(), value->size()});
        return JN_OK;
    } catch (const std::exception& e) {
        log_error(instance->log_component, std::string("state_get failed: ") + e.what());
        return JN_ERR_TRANSIENT;
    }
}

jn_status host_state_set(jn_host_instance* instance, jn_str key, jn_str value) {
    if (!instance || !instance->state) return JN_ERR_INVALID_REQUEST;
    // State is a cursor or a token, not data: a connector cannot fill the store through it.
    if (key.len > kMaxStateKeyBytes || value.len > kMaxStateValueBytes) return JN_ERR_TOO_LARGE;
    try {
        instance->state->set(sv(key), sv(value));
        return JN_OK;
    } catch (const std::exception& e) {
        log_error(instance->log_component, std::string("state_set failed: ") + e.what());
        return JN_ERR_TRANSIENT;
    }
}

jn_status host_state_delete(jn_host_instance* instance, jn_str key) {
    if (!instance || !instance->state) return JN_ERR_INVALID_REQUEST;
    try {
        instance->state->erase(sv(key));
        return JN_OK;
    } catch (const std::exception& e) {
        log_error(instance->log_component, std::string("state_delete failed: ") + e.what());
        return JN_ERR_TRANSIENT;
    }
}

// The longest credential name and value a connector may keep (a token, not data).
constexpr size_t kMaxCredentialName = 1024;
constexpr size_t kMaxCredentialValue = 64 * 1024;

jn_status host_credential_get(jn_host_instance* instance, jn_str name, jn_value_fn sink, void* user) {
    if (!instance || !sink || name.len > kMaxCredentialName) return JN_ERR_INVALID_REQUEST;
    if (!instance->state) return JN_ERR_UNSUPPORTED;
    std::string value;
    try {
        const jn_status s = instance->state->credential(sv(name), value);
        if (s == JN_OK) {
            // Another plugin object of the instance may have rotated it: this one's log
            // lines are redacted with it from now on too.
            {
                std::lock_guard lock(instance->redactor_mutex);
                instance->redactor.add(value);
            }
            sink(user, jn_str{value.data(), value.size()});
        }
        wipe_text(value);
        return s;
    } catch (const std::exception& e) {
        wipe_text(value);
        log_error(instance->log_component, instance->redact(std::string("credential_get failed: ") + e.what()));
        return JN_ERR_TRANSIENT;
    }
}

jn_status host_credential_swap(jn_host_instance* instance, jn_str name, jn_str expected, jn_str value) {
    if (!instance || name.len > kMaxCredentialName) return JN_ERR_INVALID_REQUEST;
    if (!instance->state) return JN_ERR_UNSUPPORTED;
    if (value.len > kMaxCredentialValue) return JN_ERR_TOO_LARGE;
    try {
        const jn_status s = instance->state->swap_credential(sv(name), sv(expected), sv(value));
        // Only a value the host now keeps: refused swaps cannot grow the redactor.
        if (s == JN_OK) {
            std::lock_guard lock(instance->redactor_mutex);
            instance->redactor.add(sv(value));
        }
        return s;
    } catch (const std::exception& e) {
        log_error(instance->log_component, instance->redact(std::string("credential_swap failed: ") + e.what()));
        return JN_ERR_TRANSIENT;
    }
}

int64_t host_clock_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

uint32_t host_is_cancelled(jn_call* call) {
    return (call && call->cancelled && call->cancelled->load(std::memory_order_relaxed)) ? 1 : 0;
}

jn_status host_emit(jn_call* call, jn_str json) {
    if (!call) return JN_ERR_INVALID_REQUEST;
    if (host_is_cancelled(call) || call->host_failed) return JN_ERR_CANCELLED;
    if (!call->on_emit) return JN_OK;
    try {
        (*call->on_emit)(sv(json));
        return JN_OK;
    } catch (const std::exception& e) {
        call->error = e.what();
        call->host_failed = true;
        return JN_ERR_CANCELLED;
    }
}

void host_set_error(jn_call* call, jn_str message) {
    if (call && !call->host_failed) call->error.assign(sv(message));
}

// The first lines of a call reach its caller (a run log); every line goes to the instance's log.
constexpr int kMaxCallLogLines = 100;

void host_call_log(jn_call* call, uint32_t level, jn_str message) {
    if (!call) return;
    host_log(call->instance, level, message);
    if (!call->on_log || !call->instance || call->log_lines >= kMaxCallLogLines) return;
    ++call->log_lines;
    try {
        (*call->on_log)(level, call->instance->redact(std::string(sv(message).substr(0, 4096))));
    } catch (const std::exception&) {
        // A line the caller cannot take is not the call's failure.
    }
}

const jn_host_api kHostApi = {
    sizeof(jn_host_api), &host_log,         &host_http_request, &host_state_get,
    &host_state_set,     &host_state_delete, &host_clock_now_ms, &host_is_cancelled,
    &host_emit,          &host_set_error,    &host_http_request_batch, &host_credential_get,
    &host_credential_swap, &host_call_log,
};

}  // namespace

const jn_host_api* host_api_table() { return &kHostApi; }

}  // namespace junction::core
