// Trying a request again the way APIs expect: exponential backoff with full jitter, the
// server's Retry-After (seconds or an HTTP date) when it gives one, a bounded number of
// attempts, and waits the host's cancellation ends at once.
//
// Who retries (docs/plugin-abi.md): a connector retries one request a few times within a
// call (a 429, a 503, a dropped connection); the host never repeats a call on its own, and
// a flow's run is resumed from its last checkpoint. So keep `attempts` small.
//
//   const sdk::HttpResponse r = sdk::send_with_retries(call, request, {});
//   if (r.status >= 400) throw sdk::http_error(r, "listing tickets");
#pragma once

#include <junction/sdk/host.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <thread>

namespace junction::sdk {

struct RetryPolicy {
    int attempts = 4;                  // in all, the first included
    int64_t initial_backoff_ms = 500;  // the first wait is at most this
    int64_t max_backoff_ms = 30'000;   // no computed wait is longer
    int64_t max_retry_after_ms = 30'000;  // a server asking for longer is not waited for:
                                          // the answer is returned (report it rate limited)
};

// Retry-After of a response in milliseconds from now: delta-seconds or an HTTP date
// ("Wed, 21 Oct 2026 07:28:00 GMT"); -1 when absent or unreadable; 0 for a date past.
inline int64_t retry_after_ms(const HttpResponse& response) {
    const std::string value(response.header("Retry-After"));
    if (value.empty()) return -1;
    char* end = nullptr;
    const double seconds = std::strtod(value.c_str(), &end);
    if (end && end != value.c_str() && *end == '\0')
        return seconds < 0 || !std::isfinite(seconds) ? -1 : static_cast<int64_t>(std::min(seconds, 1e9) * 1000);
    std::tm tm{};
    if (const char* rest = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm); rest && *rest == '\0') {
        const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
        return std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(at - std::chrono::system_clock::now()).count());
    }
    return -1;
}

// The wait before attempt `attempt` + 1 (`attempt` >= 1 failed): a random time up to
// min(max_backoff_ms, initial_backoff_ms * 2^(attempt-1)), "full jitter", so clients that
// failed together do not come back together.
inline int64_t backoff_ms(const RetryPolicy& policy, int attempt) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    const double ceiling = std::min<double>(static_cast<double>(policy.max_backoff_ms),
                                            static_cast<double>(policy.initial_backoff_ms) *
                                                std::pow(2.0, std::max(0, attempt - 1)));
    return static_cast<int64_t>(std::uniform_real_distribution<double>(0.0, std::max(0.0, ceiling))(random));
}

// Waits `ms`, looking at the call's cancellation every 50 ms; throws Error(JN_ERR_CANCELLED)
// as soon as the host cancels it.
inline void wait_ms(const Call& call, int64_t ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        if (call.cancelled()) throw Error(JN_ERR_CANCELLED, "cancelled while waiting to try again");
        const auto left = until - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
    }
}

// Whether an answer is worth another attempt: 408, 425, 429 and 5xx but 501 and 505.
inline bool retryable_http(int status) {
    return status == 408 || status == 425 || status == 429 ||
           (status >= 500 && status <= 599 && status != 501 && status != 505);
}

// Whether sending `method` twice does what sending it once does (RFC 9110): a request
// that is not may be tried again only when the server said it did not act on it.
inline bool idempotent_method(const std::string& method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

// Sends `request`, trying again up to `policy.attempts` in all, after the server's
// Retry-After when it gives one (and `policy.max_retry_after_ms` allows it) or else the
// backoff. An idempotent request (GET, PUT, DELETE...) is tried again on a retryable answer
// or a failed connection or timeout. A POST or PATCH only on a 429, or a 503 with
// Retry-After: answers that say the server did nothing; after a timeout or a broken
// connection it may have created something, so that failure is thrown, not repeated.
// Returns the last response, whatever its status (check it: sdk::http_error); throws the
// last transport Error when no attempt got a response, and Error(JN_ERR_CANCELLED) once the
// host cancels the call.
inline HttpResponse send_with_retries(const Call& call, const HttpRequest& request, const RetryPolicy& policy = {}) {
    const bool idempotent = idempotent_method(request.method);
    for (int attempt = 1;; ++attempt) {
        const bool last = attempt >= std::max(1, policy.attempts);
        int64_t wait = 0;
        try {
            HttpResponse response = call.http(request);
            const int64_t asked = retry_after_ms(response);
            const bool not_acted_on = response.status == 429 || (response.status == 503 && asked >= 0);
            if (last || !retryable_http(response.status) || (!idempotent && !not_acted_on)) return response;
            if (asked > policy.max_retry_after_ms) return response;  // longer than this call should wait
            wait = asked >= 0 ? asked : backoff_ms(policy, attempt);
        } catch (const Error& e) {
            const bool transport = e.status() == JN_ERR_TRANSIENT || e.status() == JN_ERR_TIMEOUT;
            if (last || !transport || !idempotent) throw;
            wait = backoff_ms(policy, attempt);
        }
        wait_ms(call, wait);
    }
}

}  // namespace junction::sdk
