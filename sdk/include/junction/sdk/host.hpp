// C++ views of the host services: Host (per instance: log, state) and Call (per call:
// results, errors, HTTP, cancellation). Thin, allocation-light wrappers over jn_host_api.
#pragma once

#include <junction/plugin_api.h>
#include <junction/sdk/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <functional>
#include <strings.h>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
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
// The minor ABI version the host announced at negotiation: what it honours beyond its table.
inline uint32_t& host_abi_minor() {
    static uint32_t minor = 0;
    return minor;
}
// The call this thread is serving, set by the SDK around each call into the connector, so
// that Host::log lines written during it also reach whoever made it (a flow's run log).
inline jn_call*& current_call() {
    thread_local jn_call* call = nullptr;
    return call;
}
struct ServingCall {
    explicit ServingCall(jn_call* call) : previous(current_call()) { current_call() = call; }
    ~ServingCall() { current_call() = previous; }
    ServingCall(const ServingCall&) = delete;
    ServingCall& operator=(const ServingCall&) = delete;
    jn_call* previous;
};
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

    // A line in the instance's log. Written during a call, on the thread serving it, it also
    // reaches whoever made the call (a flow's run log, beside the shape; ABI 1.4), debug
    // lines excepted. The host replaces the instance's secrets in it with ***.
    void log(LogLevel level, std::string_view message) const {
        const auto call_log = detail::host_api().call_log;
        if (jn_call* call = detail::current_call(); call && call_log && level != LogLevel::debug) {
            call_log(call, static_cast<uint32_t>(level), view(message));  // the instance's log too
            return;
        }
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

    // The instance's credential `name` (a writeOnly setting) as the host keeps it now (ABI
    // 1.3): once the connector has replaced it with swap_credential, that value, not the
    // one in the config the instance was created with. nullopt when it is not set, or when
    // the host keeps no credentials (an older host, a checker): the config's value is then
    // the current one.
    std::optional<std::string> credential(std::string_view name) const {
        const auto get = detail::host_api().credential_get;
        if (!get) return std::nullopt;
        std::string value;
        const jn_status s = get(
            instance_, view(name),
            [](void* user, jn_str v) { static_cast<std::string*>(user)->assign(v.ptr, v.len); }, &value);
        if (s == JN_ERR_NOT_FOUND || s == JN_ERR_UNSUPPORTED) return std::nullopt;
        if (s != JN_OK) throw Error(s, "the host could not read the instance's credential '" + std::string(name) + "'");
        return value;
    }

    enum class Swap {
        stored,    // `value` is the credential now, for every plugin object of the instance
        changed,   // it was not `expected` any more (another object or an operator replaced it)
        not_kept,  // the host keeps no credentials: hold the new value yourself
    };
    // Replaces the credential `name` with `value` if it is still `expected` (empty: not
    // set), sealed and kept across restarts, evictions and hot swaps. Use it when the
    // remote application rotates a credential (an OAuth refresh token replaced at every
    // grant). Throws Error when the host refuses (not a secret field, too large, store down).
    Swap swap_credential(std::string_view name, std::string_view expected, std::string_view value) const {
        const auto swap = detail::host_api().credential_swap;
        if (!swap) return Swap::not_kept;
        const jn_status s = swap(instance_, view(name), view(expected), view(value));
        if (s == JN_OK) return Swap::stored;
        if (s == JN_ERR_CONFLICT) return Swap::changed;
        if (s == JN_ERR_UNSUPPORTED) return Swap::not_kept;
        throw Error(s, "the host could not store the instance's credential '" + std::string(name) + "'");
    }

private:
    jn_host_instance* instance_;
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    uint32_t timeout_ms = 0;  // 0: the host's default
    // Not sooner than this long after the http or http_batch call, nor after the batch's
    // request before it than the difference (a rate limit's spacing; ABI 1.5, waited for by
    // the SDK on an older host). Within a batch, nondecreasing.
    uint32_t start_after_ms = 0;
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
    // A line about this call for whoever made it (a flow's run log, beside the shape), also
    // written to the instance's log. For what the user of the call should see without it
    // failing: a partial answer, a record skipped. Returns false from a host older than
    // ABI 1.4, which has no such line: log it with Host::log instead.
    bool log(LogLevel level, std::string_view message) const {
        const auto call_log = detail::host_api().call_log;
        if (!call_log) return false;
        call_log(call_, static_cast<uint32_t>(level), view(message));
        return true;
    }

    // Sends one request through the host's HTTP stack. Returns any HTTP status; throws
    // Error when no response arrived (timeout, connection failure, too large, cancelled).
    HttpResponse http(const HttpRequest& request) const {
        if (request.start_after_ms > 0 && detail::host_abi_minor() < 5 &&
            !wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(request.start_after_ms)))
            throw Error(JN_ERR_CANCELLED, http_failure(request, JN_ERR_CANCELLED));
        const RawRequest raw(request);
        HttpResponse response;
        jn_status s = detail::host_api().http_request(
            call_, &raw.request,
            [](void* user, const jn_http_response* r) { copy_response(*r, *static_cast<HttpResponse*>(user)); },
            &response);
        if (s != JN_OK) throw Error(s, http_failure(request, s));
        return response;
    }

    // One request's outcome in a batch: on JN_OK, `response` holds the answer, whatever its
    // HTTP status; otherwise no response arrived and http_failure() says why.
    struct HttpResult {
        jn_status status = JN_ERR_CANCELLED;
        HttpResponse response;
    };

    // Sends independent requests together: an isolated connector hands all of them to
    // junctiond in one crossing instead of one per request. `on_result(index, result)` is
    // called once per request, in the requests' order, as each outcome arrives; keep only
    // what you need of each response (a batch's responses are never all held at once).
    // The host may perform the requests in any order, so never batch requests that depend
    // on each other. Throws only when the host refused the whole batch. From a host older
    // than ABI 1.3 the requests go one by one. Requests with start_after_ms (nondecreasing)
    // start no sooner than that after this call, nor sooner after the one before than the
    // difference; a host older than ABI 1.5 does not know it, so the waits happen here and
    // the requests go in groups of those with the same turn.
    void http_batch(const std::vector<HttpRequest>& requests,
                    const std::function<void(size_t index, HttpResult& result)>& on_result) const {
        const bool host_waits = detail::host_abi_minor() >= 5;
        // The turn of the last request known to have started (an answer came, or the wait
        // was ours) before the next group goes: that group's turns count from it.
        uint32_t counted_ms = 0;
        uint32_t answered_ms = 0;
        const std::function<void(size_t, HttpResult&)> noting = [&](size_t i, HttpResult& result) {
            if (result.status == JN_OK) answered_ms = std::max(answered_ms, requests[i].start_after_ms);
            on_result(i, result);
        };
        for (size_t first = 0; first < requests.size();) {
            size_t end = std::min<size_t>(requests.size(), first + JN_HTTP_BATCH_MAX);
            if (!host_waits) {
                const uint32_t turn = requests[first].start_after_ms;
                const auto wait = std::chrono::milliseconds(turn > counted_ms ? turn - counted_ms : 0);
                if (!wait_until(std::chrono::steady_clock::now() + wait)) {
                    for (size_t i = first; i < requests.size(); ++i) {
                        HttpResult cancelled;  // JN_ERR_CANCELLED
                        on_result(i, cancelled);
                    }
                    return;
                }
                for (size_t i = first + 1; i < end; ++i)
                    if (requests[i].start_after_ms > turn) end = i;
            }
            if (host_waits) {
                send_together(requests, first, end - first, counted_ms, noting);
                counted_ms = std::max(counted_ms, answered_ms);  // a start past the deadline took no turn
            } else {
                // To an older host the group goes with no turns left: it has waited here.
                send_together(requests, first, end - first, requests[first].start_after_ms, on_result);
                counted_ms = requests[first].start_after_ms;
            }
            first = end;
        }
    }

    // Why `request` got no response, naming it without its query (which may carry a key).
    static std::string http_failure(const HttpRequest& request, jn_status s) {
        return request.method + " " + request.url.substr(0, request.url.find('?')) +
               " failed: " + describe_http_failure(s);
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
    // Sleeps until `when` in short slices; false when the call was cancelled meanwhile.
    bool wait_until(std::chrono::steady_clock::time_point when) const {
        while (std::chrono::steady_clock::now() < when) {
            if (cancelled()) return false;
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                when - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
        }
        return true;
    }

    // Requests [first, first + n) in one crossing (n <= JN_HTTP_BATCH_MAX), their turns
    // counted from `counted_ms`; one by one from a host older than ABI 1.3.
    void send_together(const std::vector<HttpRequest>& requests, size_t first, size_t n, uint32_t counted_ms,
                       const std::function<void(size_t, HttpResult&)>& on_result) const {
        const auto batch = detail::host_api().http_request_batch;
        if (!batch) {
            for (size_t i = first; i < first + n; ++i) {
                HttpResult result;
                const RawRequest raw(requests[i], counted_ms);
                result.status = detail::host_api().http_request(
                    call_, &raw.request,
                    [](void* user, const jn_http_response* r) { copy_response(*r, *static_cast<HttpResponse*>(user)); },
                    &result.response);
                on_result(i, result);
            }
            return;
        }
        struct Sink {
            const std::function<void(size_t, HttpResult&)>* on_result;
            size_t first;
            std::exception_ptr thrown;  // nothing unwinds through the host: rethrown after it
        };
        std::vector<RawRequest> raws;
        raws.reserve(n);
        for (size_t i = first; i < first + n; ++i) raws.emplace_back(requests[i], counted_ms);
        std::vector<const jn_http_request*> pointers;
        pointers.reserve(n);
        for (const auto& raw : raws) pointers.push_back(&raw.request);
        Sink sink{&on_result, first, nullptr};
        const jn_status s = batch(
            call_, pointers.data(), n,
            [](void* user, size_t index, jn_status status, const jn_http_response* r) {
                auto& to = *static_cast<Sink*>(user);
                if (to.thrown) return;
                try {
                    HttpResult result;
                    result.status = status;
                    if (status == JN_OK && r) copy_response(*r, result.response);
                    (*to.on_result)(to.first + index, result);
                } catch (...) {
                    to.thrown = std::current_exception();
                }
            },
            &sink);
        if (sink.thrown) std::rethrow_exception(sink.thrown);
        if (s != JN_OK) throw Error(s, "the host refused a batch of " + std::to_string(n) + " HTTP requests");
    }

    // The ABI's view of a request; valid while `source` is.
    struct RawRequest {
        // `counted_ms`: how much of its start_after_ms is behind it already.
        explicit RawRequest(const HttpRequest& source, uint32_t counted_ms = 0) {
            headers.reserve(source.headers.size());
            for (const auto& [k, v] : source.headers) headers.push_back({view(k), view(v)});
            request.struct_size = sizeof request;
            request.timeout_ms = source.timeout_ms;
            request.start_after_ms = source.start_after_ms > counted_ms ? source.start_after_ms - counted_ms : 0;
            request.method = view(source.method);
            request.url = view(source.url);
            request.headers = headers.data();
            request.header_count = headers.size();
            request.body = view(source.body);
        }
        RawRequest(RawRequest&& other) noexcept : headers(std::move(other.headers)), request(other.request) {
            request.headers = headers.data();
        }
        RawRequest(const RawRequest&) = delete;
        std::vector<jn_http_header> headers;
        jn_http_request request{};
    };

    static void copy_response(const jn_http_response& r, HttpResponse& out) {
        out.status = static_cast<int>(r.status_code);
        for (size_t i = 0; i < r.header_count; ++i)
            out.headers.emplace_back(view(r.headers[i].name), view(r.headers[i].value));
        out.body.assign(view(r.body));
    }

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
