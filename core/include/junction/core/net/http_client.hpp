// The host's outbound HTTP, offered to plugins through jn_host_api.http_request and
// http_request_batch: libcurl with TLS verification on, proxy from the environment,
// http/https only, a response size cap, and connections reused across the calls of one
// instance. A batch runs its requests at once on the calling thread (libcurl's multi
// interface), as many in flight as the caller's RequestSlots grant.
#pragma once

#include <junction/core/net/request_slots.hpp>
#include <junction/plugin_api.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::core {

// What one request did, for tools that show it (junction builder test). Headers and body
// are as sent, credentials included: an observer redacts before it shows anything.
struct HttpExchange {
    std::string method;
    std::string url;
    std::vector<std::pair<std::string, std::string>> request_headers;
    std::string request_body;
    int status = 0;          // 0 when no response arrived
    std::string error;       // why not
    size_t response_bytes = 0;
    double millis = 0;
};

struct HttpOptions {
    uint32_t default_timeout_ms = 30'000;
    uint32_t connect_timeout_ms = 10'000;
    size_t max_response_bytes = 64u << 20;  // larger responses fail with JN_ERR_TOO_LARGE
    bool verify_tls = true;
    // A PEM bundle of the CAs to trust instead of the system's (a private CA, a TLS
    // inspecting proxy); empty for the system bundle.
    std::string ca_file;
    std::function<void(const HttpExchange&)> observer;  // told of every request when set
};

class HttpClient {
public:
    explicit HttpClient(HttpOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Performs the request; on JN_OK on_response was called once. On failure `error`
    // says why in words (no header values, which may hold credentials).
    jn_status perform(const jn_http_request& request, jn_http_response_fn on_response,
                      void* user, const std::atomic<bool>* cancelled, std::string& error);

    // A batch starts no request more than this many past the oldest result not yet handed
    // on: the most requests one batch keeps in flight.
    static constexpr size_t kBatchMaxInFlight = 32;

    // Performs `count` requests, as many at once as `slots` grants (one at a time when
    // null; the first waits for a slot, the others take free ones), on this thread, each
    // within what is left until `deadline`. `on_result(index, status, response, error)` is
    // called once per request, in index order; `response` is null unless status is JN_OK.
    // A null request is JN_ERR_INVALID_REQUEST; requests not started once `cancelled` is
    // set are JN_ERR_CANCELLED, once the deadline passed JN_ERR_TIMEOUT. A request with
    // start_after_ms starts no sooner than that long after this call (holding no slot
    // while it waits), and no request before the one ahead of it.
    using BatchResultFn = std::function<void(size_t index, jn_status status, const jn_http_response* response,
                                             const std::string& error)>;
    void perform_many(const jn_http_request* const* requests, size_t count, const BatchResultFn& on_result,
                      const std::atomic<bool>* cancelled, RequestSlots* slots,
                      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

    // The host's own requests (the CLI to the daemon, catalogue downloads): the same
    // stack, without ABI structs. Returns false with `error` set when no response arrived.
    struct Result {
        int status = 0;
        std::string body;
        std::vector<std::pair<std::string, std::string>> headers;  // as received (Retry-After...)
    };
    bool send(std::string_view method, const std::string& url,
              const std::vector<std::pair<std::string, std::string>>& headers,
              std::string_view body, Result& result, std::string& error);

    // The whole-request timeout of a request that sets none.
    uint32_t default_timeout_ms() const { return options_.default_timeout_ms; }

private:
    jn_status perform_once(const jn_http_request& request, jn_http_response_fn on_response, void* user,
                           const std::atomic<bool>* cancelled, std::string& error);
    struct Handle;
    struct Multi;
    std::unique_ptr<Handle> acquire();
    void release(std::unique_ptr<Handle> handle);
    std::unique_ptr<Multi> acquire_multi();
    void release_multi(std::unique_ptr<Multi> multi);

    HttpOptions options_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Handle>> idle_;       // kept for connection reuse
    std::vector<std::unique_ptr<Multi>> idle_multi_;  // each with its own connections
};

}  // namespace junction::core
