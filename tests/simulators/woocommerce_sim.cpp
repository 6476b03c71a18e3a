// WooCommerce REST API v3 (/wp-json/wc/v3), orders and customers: consumer_key and
// consumer_secret in the query, page/per_page paging with per_page capped silently
// (--per-page-cap, 100 as WooCommerce does), the totals in X-WP-Total and X-WP-TotalPages,
// a page past the end answered 400 (rest_post_invalid_page_number, as WordPress core
// does), modified_after for incremental reads, and customers created by POST (201 with
// the new customer, 400 for an email already registered). Orders are generated from
// their index, one a minute from 2026-01-01.
#include "sim_api.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <vector>

namespace junction::sim {

namespace {

constexpr time_t kEpoch = 1767225600;  // 2026-01-01T00:00:00Z: order i is created i minutes later

std::string gmt(time_t t) { return iso_utc(t).substr(0, 19); }  // WooCommerce's *_gmt: no offset

class WooCommerce final : public Api {
public:
    explicit WooCommerce(const Options& o) : o_(o) {}

    CannedResponse handle(const Request& r) override {
        ++requests_;
        if (r.param("consumer_key") != o_.client_id || r.param("consumer_secret") != o_.client_secret)
            return json_response(401, R"({"code":"woocommerce_rest_authentication_error","message":"Invalid signature - provided signature does not match.","data":{"status":401}})");
        if (r.method == "GET" && r.path == "/wp-json/wc/v3/orders") return orders(r);
        if (r.method == "GET" && r.path == "/wp-json/wc/v3/customers") return customers(r);
        if (r.method == "POST" && r.path == "/wp-json/wc/v3/customers") return create_customer(r);
        return json_response(404, R"({"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}})");
    }

    std::string received() const override {
        std::lock_guard lock(mutex_);
        std::string out = R"({"requests":)" + std::to_string(requests_.load()) + R"(,"orders_served":)" +
                          std::to_string(served_.load()) + R"(,"customers":[)";
        for (size_t i = 0; i < created_.size(); ++i) out += (i ? "," : "") + created_[i];
        return out + "]}";
    }

private:
    // One page of `total` records (the ones from `first` on), as WordPress pages them.
    CannedResponse page_of(const Request& r, long first, long total, const std::function<std::string(long)>& record) {
        const long asked = std::stol(r.param("per_page", "10"));
        if (asked < 1) return json_response(400, R"({"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400}})");
        const long per_page = std::min(asked, o_.per_page_cap);
        const long page = std::stol(r.param("page", "1"));
        const long pages = (total + per_page - 1) / per_page;
        if (page < 1 || page > std::max(pages, 1L))
            return json_response(400, R"({"code":"rest_post_invalid_page_number","message":"The page number requested is larger than the number of pages available.","data":{"status":400}})");
        std::string body = "[";
        const long from = first + (page - 1) * per_page, to = std::min(first + total, from + per_page);
        for (long i = from; i < to; ++i) body += (i > from ? "," : "") + record(i);
        CannedResponse res = json_response(200, body + "]");
        res.headers.emplace_back("X-WP-Total", std::to_string(total));
        res.headers.emplace_back("X-WP-TotalPages", std::to_string(pages));
        return res;
    }

    CannedResponse orders(const Request& r) {
        long first = 0;
        if (const std::string after = r.param("modified_after"); !after.empty()) {
            const time_t t = parse_iso_utc(after);
            if (t < 0) return json_response(400, R"({"code":"rest_invalid_param","message":"Invalid parameter(s): modified_after","data":{"status":400}})");
            // order i is modified at kEpoch + 60 i + 30; "after" excludes that instant
            first = std::clamp<long>((t - kEpoch - 30) / 60 + 1, 0, o_.items);
            if (t < kEpoch + 30) first = 0;
        }
        auto res = page_of(r, first, o_.items - first, [](long i) { return order(i); });
        if (res.status == 200) served_ += std::count(res.body.begin(), res.body.end(), '#');  // one '#' per order
        return res;
    }

    CannedResponse customers(const Request& r) {
        std::lock_guard lock(mutex_);
        std::vector<std::string> all = created_;
        return page_of(r, 0, static_cast<long>(all.size()), [&](long i) { return all[static_cast<size_t>(i)]; });
    }

    CannedResponse create_customer(const Request& r) {
        rapidjson::Document d;
        d.Parse(r.raw->body.c_str());
        if (!d.IsObject() || !d.HasMember("email") || !d["email"].IsString() || std::string(d["email"].GetString()).find('@') == std::string::npos)
            return json_response(400, R"({"code":"customer_invalid_email","message":"Invalid email address.","data":{"status":400}})");
        const std::string email = d["email"].GetString();
        auto text = [&](const char* k) { return d.HasMember(k) && d[k].IsString() ? std::string(d[k].GetString()) : std::string(); };
        std::lock_guard lock(mutex_);
        if (!emails_.insert(email).second)
            return json_response(400, R"({"code":"registration-error-email-exists","message":"An account is already registered with your email address.","data":{"status":400}})");
        const long id = 100 + static_cast<long>(created_.size());
        const std::string customer = R"({"id":)" + std::to_string(id) + R"(,"email":)" + json_string(email) +
                                     R"(,"first_name":)" + json_string(text("first_name")) + R"(,"last_name":)" +
                                     json_string(text("last_name")) + R"(,"role":"customer","username":)" +
                                     json_string(email.substr(0, email.find('@'))) + R"(,"date_created_gmt":")" +
                                     gmt(kEpoch) + R"("})";
        created_.push_back(customer);
        return json_response(201, customer);
    }

    static std::string order(long i) {
        const time_t created = kEpoch + 60 * i;
        const long cents = 1000 + (i * 37) % 9000;
        char buf[1024];
        std::snprintf(buf, sizeof buf,
                      R"({"id":%ld,"number":"#%ld","status":"%s","currency":"%s","date_created_gmt":"%s",)"
                      R"("date_modified_gmt":"%s","total":"%ld.%02ld","customer_id":%ld,)"
                      R"("billing":{"first_name":"Ada","last_name":"Lovelace","email":"customer%ld@example.com"},)"
                      R"("line_items":[{"id":%ld,"name":"Item %ld","sku":"SKU-%03ld","quantity":%ld,"total":"%ld.%02ld"}]})",
                      1 + i, 1001 + i, i % 10 == 0 ? "pending" : "processing", i % 4 == 0 ? "EUR" : "USD",
                      gmt(created).c_str(), gmt(created + 30).c_str(), cents / 100, cents % 100, 10 + i % 500, 10 + i % 500,
                      50000 + i, i % 200, i % 200, 1 + i % 3, cents / 100, cents % 100);
        return buf;
    }

    const Options& o_;
    mutable std::mutex mutex_;
    std::vector<std::string> created_;
    std::set<std::string> emails_;
    std::atomic<long> requests_{0}, served_{0};
};

}  // namespace

std::unique_ptr<Api> make_woocommerce(const Options& o) { return std::make_unique<WooCommerce>(o); }

}  // namespace junction::sim
