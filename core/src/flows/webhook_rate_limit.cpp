#include <junction/core/flows/webhook_rate_limit.hpp>

#include <junction/core/common/json.hpp>

#include <algorithm>
#include <cmath>

namespace junction::core {

int64_t WebhookRateLimiter::take(const std::string& flow_id, const WebhookRateLimit& limit, int64_t now_ms) {
    if (limit.per_minute <= 0) return 0;
    std::lock_guard lock(mutex_);
    auto [it, added] = buckets_.try_emplace(flow_id);
    Bucket& b = it->second;
    const double burst = static_cast<double>(std::max<int64_t>(1, limit.burst));
    if (added || b.limit != limit) b = Bucket{limit, burst, now_ms};
    const double rate_per_ms = static_cast<double>(limit.per_minute) / 60'000.0;
    b.tokens = std::min(burst, b.tokens + static_cast<double>(std::max<int64_t>(0, now_ms - b.at_ms)) * rate_per_ms);
    b.at_ms = std::max(b.at_ms, now_ms);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    const double wait_ms = (1.0 - b.tokens) / rate_per_ms;
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms / 1000.0)));
}

void WebhookRateLimiter::forget(const std::string& flow_id) {
    std::lock_guard lock(mutex_);
    buckets_.erase(flow_id);
}

namespace flows {

WebhookRateLimit read_rate_limit(const Spec& trigger, const WebhookRateLimit& defaults) {
    WebhookRateLimit r = defaults;
    auto spec = trigger.child("rate_limit", false);
    if (!spec) return r;
    spec->allow_only({"per_minute", "burst"});
    r.per_minute = spec->integer("per_minute", 0, 1'000'000).value_or(r.per_minute);
    r.burst = spec->integer("burst", 1, 1'000'000).value_or(r.burst);
    return r;
}

WebhookRateLimit rate_limit_of(std::string_view document_json, const WebhookRateLimit& defaults) {
    const auto document = parse_json_text(document_json, "the flow");
    Problems ignored;  // validated when it was saved
    const Spec doc(document, "", ignored);
    auto trigger = doc.child("trigger", false);
    return trigger ? read_rate_limit(*trigger, defaults) : defaults;
}

}  // namespace flows
}  // namespace junction::core
