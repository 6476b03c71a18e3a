// Shopify Admin REST API (2024-01), orders and customers: X-Shopify-Access-Token,
// cursor pagination with page_info in the Link header (limit up to 250, no other
// parameters beside page_info), updated_at_min, and the leaky bucket (40 requests,
// 2 per second leak; --bucket and --leak change them) answering 429 with Retry-After.
// Orders are generated from their index, so any number can be served without storing
// them; one in 25 is cancelled.
#include "sim_api.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>

namespace junction::sim {

namespace {

constexpr time_t kEpoch = 1767225600;  // 2026-01-01T00:00:00Z: order i is created i minutes later

class Shopify final : public Api {
public:
    explicit Shopify(const Options& o) : o_(o) {}

    CannedResponse handle(const Request& r) override {
        ++requests_;
        if (r.header("x-shopify-access-token") != o_.token)
            return json_response(401, R"j({"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"})j");
        if (o_.rate_limit && !admit())
            return {429, {{"Content-Type", "application/json"}, {"Retry-After", "2.0"}}, R"({"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})"};
        if (r.method == "GET" && r.path == "/admin/api/2024-01/orders.json") return list(r, "orders");
        if (r.method == "GET" && r.path == "/admin/api/2024-01/customers.json") return list(r, "customers");
        return json_response(404, R"({"errors":"Not Found"})");
    }

    std::string received() const override {
        return R"({"requests":)" + std::to_string(requests_.load()) + R"(,"records_served":)" +
               std::to_string(served_.load()) + R"(,"throttled":)" + std::to_string(throttled_.load()) + "}";
    }

private:
    bool admit() {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        level_ = std::max(0.0, level_ - std::chrono::duration<double>(now - last_).count() * o_.leak_per_second);
        last_ = now;
        if (level_ + 1 > o_.bucket_size) {
            ++throttled_;
            return false;
        }
        level_ += 1;
        return true;
    }

    CannedResponse list(const Request& r, const std::string& kind) {
        const long limit = std::stol(r.param("limit", "50"));
        if (limit < 1 || limit > 250)
            return json_response(400, R"({"errors":{"limit":"must be between 1 and 250"}})");
        long start = 0;
        const std::string page_info = r.param("page_info");
        if (!page_info.empty()) {
            for (const auto& [k, v] : r.query)
                if (k != "page_info" && k != "limit" && k != "fields")
                    return json_response(400, R"({"errors":"page_info - Invalid value. Only limit and fields may accompany page_info."})");
            if (page_info.rfind("p", 0) != 0) return json_response(400, R"({"errors":"page_info - Invalid value."})");
            start = std::stol(page_info.substr(1));
        } else if (const std::string min = r.param("updated_at_min"); !min.empty()) {
            const time_t t = parse_iso_utc(min);
            if (t < 0) return json_response(400, R"({"errors":{"updated_at_min":"is not a date"}})");
            // order i is updated at kEpoch + 60 i + 30
            start = std::max<long>(0, static_cast<long>(std::ceil((t - kEpoch - 30) / 60.0)));
        }
        const long end = std::min(o_.items, start + limit);
        std::string body = "{\"" + kind + "\":[";
        for (long i = start; i < end; ++i) {
            if (i > start) body += ',';
            body += kind == "orders" ? order(i) : customer(i);
        }
        body += "]}";
        served_ += std::max(0L, end - start);
        CannedResponse res = json_response(200, std::move(body));
        const std::string self = o_.base_url + "/admin/api/2024-01/" + kind + ".json?limit=" + std::to_string(limit);
        std::string link;
        if (start > 0) link = "<" + self + "&page_info=p" + std::to_string(std::max(0L, start - limit)) + ">; rel=\"previous\"";
        if (end < o_.items) link += (link.empty() ? "" : ", ") + ("<" + self + "&page_info=p" + std::to_string(end) + ">; rel=\"next\"");
        if (!link.empty()) res.headers.emplace_back("Link", link);
        if (o_.rate_limit) res.headers.emplace_back("X-Shopify-Shop-Api-Call-Limit", std::to_string(static_cast<int>(level_)) + "/" + std::to_string(o_.bucket_size));
        return res;
    }

    static std::string customer(long i) {
        const std::string id = std::to_string(7000000 + i % 5000);
        return R"({"id":)" + id + R"(,"email":"customer)" + id + R"(@example.com","first_name":"Ada","last_name":"Lovelace )" + id + R"("})";
    }

    static std::string order(long i) {
        const time_t created = kEpoch + 60 * i;
        const long items = 1 + i % 3;
        std::string lines;
        long cents = 0;
        for (long l = 0; l < items; ++l) {
            const long price = 500 + (i * 7 + l * 13) % 4500;
            cents += price * (1 + l);
            char buf[256];
            std::snprintf(buf, sizeof buf,
                          R"(%s{"id":%ld,"sku":"SKU-%03ld","title":"Item %ld","quantity":%ld,"price":"%ld.%02ld"})",
                          l ? "," : "", 900000000 + i * 3 + l, (i + l) % 200, (i + l) % 200, 1 + l, price / 100, price % 100);
            lines += buf;
        }
        char buf[1024];
        std::snprintf(buf, sizeof buf,
                      R"({"id":%ld,"order_number":%ld,"name":"#%ld","email":"customer%ld@example.com",)"
                      R"("created_at":"%s","updated_at":"%s","currency":"%s","total_price":"%ld.%02ld",)"
                      R"("financial_status":"%s","cancelled_at":%s,"customer":{"id":%ld,"email":"customer%ld@example.com"},"line_items":[)",
                      5000000000 + i, 1001 + i, 1001 + i, 7000000 + i % 5000, iso_utc(created).c_str(), iso_utc(created + 30).c_str(),
                      i % 4 == 0 ? "EUR" : "USD", cents / 100, cents % 100, i % 10 == 0 ? "pending" : "paid",
                      i % 25 == 7 ? ("\"" + iso_utc(created + 45) + "\"").c_str() : "null", 7000000 + i % 5000, 7000000 + i % 5000);
        return buf + lines + "]}";
    }

    const Options& o_;
    std::mutex mutex_;
    double level_ = 0;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    std::atomic<long> requests_{0}, served_{0}, throttled_{0};
};

}  // namespace

std::unique_ptr<Api> make_shopify(const Options& o) { return std::make_unique<Shopify>(o); }

}  // namespace junction::sim
