// How many webhook calls a flow accepts: a token bucket per flow, refilled at `per_minute`
// and holding at most `burst`. A call with no token is refused (RateLimited, HTTP 429 with
// Retry-After) before its body is parsed or stored. junctiond's settings give the default;
// a webhook trigger overrides it:  "trigger": {"type": "webhook", "rate_limit": {"per_minute": 120, "burst": 20}}
#pragma once

#include <junction/core/common/error.hpp>
#include <junction/core/flows/spec.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace junction::core {

struct WebhookRateLimit {
    int64_t per_minute = 600;  // tokens added a minute; 0: no limit
    int64_t burst = 60;        // tokens a quiet flow saves up: calls accepted at once
    bool operator==(const WebhookRateLimit&) const = default;
};

// A webhook call refused by the rate limit; retry_after_seconds is when a token is back.
// The webhook route answers it 429 "rate_limited" with Retry-After (a caller that does not
// know it sees an invalid_argument).
class RateLimited : public Error {
public:
    RateLimited(std::string message, int64_t retry_after_seconds)
        : Error(Errc::invalid_argument, std::move(message)), retry_after_seconds(retry_after_seconds) {}
    int64_t retry_after_seconds;
};

class WebhookRateLimiter {
public:
    // Takes a token from the flow's bucket: 0 when the call may go ahead, else the seconds
    // (at least 1) until a token is back. A changed limit starts a full bucket.
    int64_t take(const std::string& flow_id, const WebhookRateLimit& limit, int64_t now_ms);
    void forget(const std::string& flow_id);

private:
    struct Bucket {
        WebhookRateLimit limit;
        double tokens = 0;
        int64_t at_ms = 0;
    };
    std::mutex mutex_;
    std::map<std::string, Bucket> buckets_;  // flow id -> its bucket
};

namespace flows {
// The trigger's "rate_limit" over `defaults`; problems go into `trigger`'s list.
WebhookRateLimit read_rate_limit(const Spec& trigger, const WebhookRateLimit& defaults);
// The same from a stored (already validated) flow document.
WebhookRateLimit rate_limit_of(std::string_view document_json, const WebhookRateLimit& defaults);
}  // namespace flows

}  // namespace junction::core
