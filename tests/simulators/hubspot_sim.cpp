// A HubSpot-style CRM (the CRM v3 objects API): OAuth 2.0 refresh tokens at
// /oauth/v1/token with the client in the form body (--client-auth body, as HubSpot wants),
// 30-minute tokens, contacts listed with a cursor (paging.next.after, limit up to 100),
// and contacts created by POST (201 with the new contact and its id; 409 when the email
// exists). Contacts are generated from their index.
#include "sim_api.hpp"
#include "token_issuer.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <atomic>
#include <mutex>
#include <set>
#include <vector>

namespace junction::sim {

namespace {

constexpr time_t kEpoch = 1767225600;  // 2026-01-01T00:00:00Z

class HubSpot final : public Api {
public:
    explicit HubSpot(const Options& o) : o_(o), tokens_(o) {}

    CannedResponse handle(const Request& r) override {
        ++requests_;
        if (r.path == "/oauth/v1/token") return tokens_.grant(r, o_.base_url + "/oauth/v1/token");
        if (!tokens_.authorized(r))
            return json_response(401, R"({"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"})");
        if (r.method == "GET" && r.path == "/crm/v3/objects/contacts") return list(r);
        if (r.method == "POST" && r.path == "/crm/v3/objects/contacts") return create(r);
        return json_response(404, R"({"status":"error","message":"Not found","category":"OBJECT_NOT_FOUND"})");
    }

    std::string received() const override {
        std::lock_guard lock(mutex_);
        std::string out = R"({"requests":)" + std::to_string(requests_.load()) + R"(,"token_grants":)" +
                          std::to_string(tokens_.grants()) + R"(,"created":[)";
        for (size_t i = 0; i < created_.size(); ++i) out += (i ? "," : "") + created_[i];
        return out + "]}";
    }

    void revoke_tokens() override { tokens_.revoke(); }

private:
    static std::string contact(long i, const std::string& email, const std::string& first, const std::string& last) {
        const std::string id = std::to_string(1000 + i), at = iso_utc(kEpoch + 60 * i);
        return R"({"id":")" + id + R"(","properties":{"email":)" + json_string(email) + R"(,"firstname":)" +
               json_string(first) + R"(,"lastname":)" + json_string(last) + R"(,"hs_object_id":")" + id +
               R"(","lastmodifieddate":")" + at + R"("},"createdAt":")" + at + R"(","updatedAt":")" + at +
               R"(","archived":false})";
    }

    CannedResponse list(const Request& r) {
        const long limit = std::stol(r.param("limit", "10"));
        if (limit < 1 || limit > 100)
            return json_response(400, R"({"status":"error","message":"limit must be between 1 and 100","category":"VALIDATION_ERROR"})");
        const long from = std::stol(r.param("after", "0"));
        const long end = std::min(o_.items, from + limit);
        std::string body = R"({"results":[)";
        for (long i = from; i < end; ++i)
            body += (i > from ? "," : "") + contact(i, "contact" + std::to_string(i) + "@example.com", "Ada", "Lovelace");
        body += "]";
        if (end < o_.items) body += R"(,"paging":{"next":{"after":")" + std::to_string(end) + R"("}})";
        return json_response(200, body + "}");
    }

    CannedResponse create(const Request& r) {
        rapidjson::Document d;
        d.Parse(r.raw->body.c_str());
        if (!d.IsObject() || !d.HasMember("properties") || !d["properties"].IsObject())
            return json_response(400, R"({"status":"error","message":"Invalid input JSON: properties is required","category":"VALIDATION_ERROR"})");
        const auto& p = d["properties"];
        auto text = [&](const char* k) { return p.HasMember(k) && p[k].IsString() ? std::string(p[k].GetString()) : std::string(); };
        std::lock_guard lock(mutex_);
        const std::string email = text("email");
        if (!email.empty() && !emails_.insert(email).second)
            return json_response(409, R"({"status":"error","message":"Contact already exists. Existing ID: )" +
                                          std::to_string(ids_[email]) + R"(","category":"CONFLICT"})");
        const long i = 1'000'000 + static_cast<long>(created_.size());
        ids_[email] = 1000 + i;
        const std::string made = contact(i, email, text("firstname"), text("lastname"));
        created_.push_back(made);
        return json_response(201, made);
    }

    const Options& o_;
    TokenIssuer tokens_;
    mutable std::mutex mutex_;
    std::vector<std::string> created_;
    std::set<std::string> emails_;
    std::map<std::string, long> ids_;
    std::atomic<long> requests_{0};
};

}  // namespace

std::unique_ptr<Api> make_hubspot(const Options& o) { return std::make_unique<HubSpot>(o); }

}  // namespace junction::sim
