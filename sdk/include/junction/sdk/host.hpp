// C++ views of the host services: Host (per instance: log, state) and Call (per call:
// results, errors, HTTP, cancellation). Thin, allocation-light wrappers over jn_host_api.
#pragma once

#include <junction/plugin_api.h>
#include <junction/sdk/error.hpp>

#include <cstring>
#include <strings.h>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::sdk {

inline jn_str view(std::string_view s) { return jn_str{s.data(), s.size()}; }
inline std::string_view view(jn_str s) { return {s.ptr ? s.ptr : "", s.len}; }

namespace detail {
// The host table received at negotiation, copied and zero-filled to the size this SDK
// knows. One per loaded library; set once before any other call.
inline jn_host_api& host_api() {
    static jn_host_api api{};
    return api;
}
}  // namespace detail

enum class LogLevel : uint32_t {
    debug = JN_LOG_DEBUG,
    info = JN_LOG_INFO,
    warn = JN_LOG_WARN,
    error = JN_LOG_ERROR,
};

// The host's services for one instance.
class Host {
public:
    explicit Host(jn_host_instance* instance) : instance_(instance) {}

    void log(LogLevel level, std::string_view message) const {
        detail::host_api().log(instance_, static_cast<uint32_t>(level), view(message));
    }
    void info(std::string_view m) const { log(LogLevel::info, m); }
    void warn(std::string_view m) const { log(LogLevel::warn, m); }

    // Per-instance state kept by the host across calls and restarts.
    std::optional<std::string> state_get(std::string_view key) const {
        std::string value;
        jn_status s = detail::host_api().state_get(
            instance_, view(key),
            [](void* user, jn_str v) { static_cast<std::string*>(user)->assign(v.ptr, v.len); },
            &value);
        if (s == JN_ERR_NOT_FOUND) return std::nullopt;
        if (s != JN_OK) throw Error(s, "host state_get failed for key '" + std::string(key) + "'");
        return value;
    }
    void state_set(std::string_view key, std::string_view value) const {
        jn_status s = detail::host_api().state_set(instance_, view(key), view(value));
        if (s != JN_OK) throw Error(s, "host state_set failed for key '" + std::string(key) + "'");
    }
    void state_delete(std::string_view key) const {
        detail::host_api().state_delete(instance_, view(key));
    }

    int64_t now_ms() const { return detail::host_api().clock_now_ms(); }

private:
    jn_host_instance* instance_;
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    uint32_t timeout_ms = 0;  // 0: the host's default
};

struct HttpResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    // Case-insensitive header lookup; empty when absent.
    std::string_view header(std::string_view name) const {
        for (const auto& [k, v] : headers) {
            if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0)
                return v;
        }
        return {};
    }
};

// One call in progress: where results go, whether to stop, and outbound HTTP.
class Call {
public:
    explicit Call(jn_call* call) : call_(call) {}

    // Hands one JSON result to the host. Throws Error(JN_ERR_CANCELLED) when the host
    // wants no more, so a loop of emits unwinds cleanly.
    void emit(std::string_view json) const {
        if (detail::host_api().emit(call_, view(json)) == JN_ERR_CANCELLED)
            throw Error(JN_ERR_CANCELLED, "the host cancelled the call");
    }
    bool cancelled() const { return detail::host_api().is_cancelled(call_) != 0; }
    void set_error(std::string_view message) const {
        detail::host_api().set_error(call_, view(message));
    }

    // Sends one request through the host's HTTP stack. Returns any HTTP status; throws
    // Error when no response arrived (timeout, connection failure, too large, cancelled).
    HttpResponse http(const HttpRequest& request) const {
        std::vector<jn_http_header> headers;
        headers.reserve(request.headers.size());
        for (const auto& [k, v] : request.headers) headers.push_back({view(k), view(v)});
        jn_http_request raw{};
        raw.struct_size = sizeof raw;
        raw.timeout_ms = request.timeout_ms;
        raw.method = view(request.method);
        raw.url = view(request.url);
        raw.headers = headers.data();
        raw.header_count = headers.size();
        raw.body = view(request.body);

        HttpResponse response;
        jn_status s = detail::host_api().http_request(
            call_, &raw,
            [](void* user, const jn_http_response* r) {
                auto* out = static_cast<HttpResponse*>(user);
                out->status = static_cast<int>(r->status_code);
                for (size_t i = 0; i < r->header_count; ++i)
                    out->headers.emplace_back(view(r->headers[i].name), view(r->headers[i].value));
                out->body.assign(view(r->body));
            },
            &response);
        if (s != JN_OK) {
            // Not the query: it may carry a key.
            const std::string where = request.url.substr(0, request.url.find('?'));
            throw Error(s, request.method + " " + where + " failed: " + describe_http_failure(s));
        }
        return response;
    }

    static const char* describe_http_failure(jn_status s) {
        switch (s) {
            case JN_ERR_TIMEOUT: return "no complete response within the timeout";
            case JN_ERR_TRANSIENT: return "the connection failed or broke off";
            case JN_ERR_TOO_LARGE: return "the response is larger than the host's size cap";
            case JN_ERR_CANCELLED: return "cancelled";
            case JN_ERR_INVALID_REQUEST: return "the host refused the request (only http and https URLs)";
            default: return "the host's HTTP service failed";
        }
    }

    jn_call* raw() const { return call_; }

private:
    jn_call* call_;
};

// Accumulates records into pages (JSON arrays) and emits a page every `page_size`
// records: the unit that crosses the ABI on a hot path.
class PageWriter {
public:
    PageWriter(const Call& call, size_t page_size) : call_(call), page_size_(page_size) {
        buffer_.reserve(64 * 1024);
    }

    // Adds one record given as serialized JSON (an object).
    void add_json(std::string_view record) {
        buffer_.push_back(count_ == 0 ? '[' : ',');
        buffer_.append(record);
        if (++count_ >= page_size_) flush();
    }

    // Emits what is pending as one page; does nothing when empty.
    void flush() {
        if (count_ == 0) return;
        buffer_.push_back(']');
        count_ = 0;
        call_.emit(buffer_);
        buffer_.clear();
        ++pages_;
    }

    size_t pages_emitted() const { return pages_; }

private:
    const Call& call_;
    size_t page_size_;
    size_t count_ = 0;
    size_t pages_ = 0;
    std::string buffer_;
};

}  // namespace junction::sdk
