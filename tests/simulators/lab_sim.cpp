// The lab API: one small API that speaks every auth method and every pagination strategy
// the REST engine offers, so each can be tested against a real server. Started with
// --auth METHOD; serves --items records (id 1..N) ten at a time (/lab/wp: as WordPress
// does, up to 50; /lab/has_more: 7).
#include "sim_api.hpp"
#include "token_issuer.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

namespace junction::sim {

namespace {

std::string item(long i) {
    return R"({"id":)" + std::to_string(i) + R"(,"name":"item )" + std::to_string(i) + R"("})";
}

class Lab final : public Api {
public:
    explicit Lab(const Options& o) : o_(o), tokens_(o) {}

    CannedResponse handle(const Request& r) override {
        ++requests_;
        if (r.path == "/lab/token") return tokens_.grant(r, o_.base_url + "/lab/token");
        if (r.path == "/lab/login") return login(r);
        if (!authorized(r)) return json_response(401, R"({"error":"unauthorized"})");
        const long per_page = std::stol(r.param("per_page", r.param("limit", "10")));
        if (r.path == "/lab/link") {
            const long page = std::stol(r.param("page", "1"));
            CannedResponse res = json_response(200, "[" + items((page - 1) * 10, 10) + "]");
            if (page * 10 < o_.items)
                res.headers.emplace_back("Link", "<" + o_.base_url + "/lab/link?page=" + std::to_string(page + 1) +
                                                     ">; rel=\"next\", <" + o_.base_url + "/lab/link?page=1>; rel=\"first\"");
            return res;
        }
        if (r.path == "/lab/next_url") {
            const long after = std::stol(r.param("after", "0"));
            const std::string next = after + 10 < o_.items
                                         ? json_string(o_.base_url + "/lab/next_url?after=" + std::to_string(after + 10))
                                         : "null";
            return json_response(200, R"({"items":[)" + items(after, 10) + R"(],"next":)" + next + "}");
        }
        if (r.path == "/lab/cursor") {
            const std::string cursor = r.param("cursor", "c0");
            const long from = std::stol(cursor.substr(1));
            const std::string next = from + 10 < o_.items ? json_string("c" + std::to_string(from + 10)) : "null";
            return json_response(200, R"({"data":[)" + items(from, 10) + R"(],"meta":{"next_cursor":)" + next + "}}");
        }
        if (r.path == "/lab/pages") {
            const long page = std::stol(r.param("page", "1"));
            return json_response(200, R"({"results":[)" + items((page - 1) * per_page, per_page) + "]}");
        }
        if (r.path == "/lab/wp") return wordpress_page(r);
        if (r.path == "/lab/has_more") {  // pages of 7 whatever is asked, and whether more follow
            const long page = std::stol(r.param("page", "1"));
            const bool more = page * 7 < o_.items;
            return json_response(200, R"({"data":[)" + items((page - 1) * 7, 7) + R"(],"has_more":)" +
                                          (more ? "true" : "false") + "}");
        }
        if (r.path == "/lab/offset")
            return json_response(200, R"({"rows":[)" + items(std::stol(r.param("offset", "0")), per_page) + "]}");
        if (r.path == "/lab/graphql" && r.method == "POST") return graphql(r);
        if (r.path == "/lab/items" && r.method == "POST") return receive_item(r);
        return json_response(404, R"({"error":"no such path"})");
    }

    std::string received() const override {
        std::lock_guard lock(mutex_);
        std::string out = R"({"requests":)" + std::to_string(requests_.load()) + R"(,"token_grants":)" +
                          std::to_string(tokens_.grants()) + R"(,"logins":)" + std::to_string(logins_) + R"(,"items":[)";
        for (size_t i = 0; i < received_.size(); ++i) out += (i ? "," : "") + received_[i];
        return out + "]}";
    }

    void revoke_tokens() override {
        tokens_.revoke();
        std::lock_guard lock(mutex_);
        sessions_.clear();
    }

private:
    std::string items(long from, long count) const {
        std::string out;
        for (long i = from; i < std::min(o_.items, from + count); ++i) out += (i > from ? "," : "") + item(i + 1);
        return out;
    }

    static std::string basic(const std::string& user, const std::string& password) {
        const std::string in = user + ":" + password;
        std::string out(4 * ((in.size() + 2) / 3), '\0');
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                        static_cast<int>(in.size()));
        return "Basic " + out;
    }

    bool authorized(const Request& r) {
        const std::string& a = o_.auth;
        if (a == "none") return true;
        if (a == "basic") return r.header("authorization") == basic(o_.username, o_.password);
        if (a == "bearer") return r.header("authorization") == "Bearer " + o_.token;
        if (a == "api_key_header") return r.header("x-api-key") == o_.token;
        if (a == "api_key_query") return r.param("api_key") == o_.token;
        if (a == "query_key_pair") return r.param("consumer_key") == o_.client_id && r.param("consumer_secret") == o_.client_secret;
        if (a == "session") {
            std::lock_guard lock(mutex_);
            auto it = sessions_.find(r.header("x-session-token"));
            return it != sessions_.end() && it->second > std::chrono::steady_clock::now();
        }
        return tokens_.authorized(r);  // client_credentials, jwt, refresh_token
    }

    CannedResponse graphql(const Request& r) {
        rapidjson::Document q;
        q.Parse(r.raw->body.c_str());
        if (!q.IsObject() || !q.HasMember("query")) return json_response(400, R"({"errors":[{"message":"no query"}]})");
        long first = 10, from = 0;
        if (q.HasMember("variables") && q["variables"].IsObject()) {
            const auto& v = q["variables"];
            if (v.HasMember("first") && v["first"].IsInt64()) first = v["first"].GetInt64();
            if (v.HasMember("after") && v["after"].IsString()) from = std::stol(std::string(v["after"].GetString()).substr(1));
            // Incremental: the items after the id in "since" (text, as a cursor is).
            if (v.HasMember("since") && v["since"].IsString()) from = std::max(from, std::stol(v["since"].GetString()));
        }
        const long end = std::min(o_.items, from + first);
        const std::string page_info = R"("pageInfo":{"hasNextPage":)" + std::string(end < o_.items ? "true" : "false") +
                                      R"(,"endCursor":")" + "g" + std::to_string(end) + R"("})";
        // Errors answered with 200, as GraphQL servers do, chosen by a word in the query:
        // "throttle" (THROTTLED twice, then data), "broken" (a bad field), "partial" (data
        // and an error).
        const std::string query = q["query"].IsString() ? q["query"].GetString() : "";
        if (query.find("throttle") != std::string::npos && throttled_++ < 2)
            return json_response(200, R"({"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","retry_after_ms":20}}]})");
        if (query.find("broken") != std::string::npos)
            return json_response(200, R"({"errors":[{"message":"Field 'nope' doesn't exist on type 'Item'","extensions":{"code":"undefinedField"}}]})");
        const std::string partial = query.find("partial") != std::string::npos
                                        ? R"(,"errors":[{"message":"price is not available","path":["items","nodes",0,"price"]}])"
                                        : "";
        if (query.find("edges") == std::string::npos)
            return json_response(200, R"({"data":{"items":{"nodes":[)" + items(from, first) + "]," + page_info + "}}" +
                                          partial + "}");
        std::string edges;  // Relay style: {"edges": [{"cursor", "node"}]}
        for (long i = from; i < end; ++i)
            edges += (i > from ? "," : "") + std::string(R"({"cursor":"g)") + std::to_string(i + 1) + R"(","node":)" + item(i + 1) + "}";
        return json_response(200, R"({"data":{"items":{"edges":[)" + edges + "]," + page_info + "}}" + partial + "}");
    }

    // WordPress/WooCommerce: a bare array, per_page silently capped at 50, the totals in
    // X-WP-Total and X-WP-TotalPages, and a page past the end answered 400.
    CannedResponse wordpress_page(const Request& r) const {
        const long per_page = std::min(50L, std::stol(r.param("per_page", "10")));
        const long page = std::stol(r.param("page", "1"));
        const long pages = (o_.items + per_page - 1) / per_page;
        const long served = std::stol(r.param("max_pages", "0"));  // an API that limits deep paging
        if (page > std::max(pages, 1L) || (served > 0 && page > served))
            return json_response(400, R"({"code":"rest_post_invalid_page_number","message":"The page number requested is larger than the number of pages available.","data":{"status":400}})");
        CannedResponse res = json_response(200, "[" + items((page - 1) * per_page, per_page) + "]");
        res.headers.emplace_back("X-WP-Total", std::to_string(o_.items));
        res.headers.emplace_back("X-WP-TotalPages", std::to_string(pages));
        return res;
    }

    // A session login: {"user", "pass"} for {"session": {"token", "ttl"}} (not OAuth's names;
    // the ttl as text), the token good for --token-ttl seconds.
    CannedResponse login(const Request& r) {
        rapidjson::Document d;
        d.Parse(r.raw->body.c_str());
        if (r.method != "POST" || !d.IsObject() || !d.HasMember("user") || !d.HasMember("pass") || !d["user"].IsString() ||
            !d["pass"].IsString())
            return json_response(400, R"({"message":"POST {\"user\": ..., \"pass\": ...}"})");
        if (o_.username != d["user"].GetString() || o_.password != d["pass"].GetString())
            return json_response(401, R"({"message":"wrong user name or password"})");
        std::lock_guard lock(mutex_);
        const std::string token = "s-" + std::to_string(++logins_);
        sessions_[token] = std::chrono::steady_clock::now() + std::chrono::seconds(o_.token_ttl_s);
        return json_response(200, R"({"session":{"token":)" + json_string(token) + R"(,"ttl":")" +
                                      std::to_string(o_.token_ttl_s) + R"("}})");
    }

    CannedResponse receive_item(const Request& r) {
        rapidjson::Document d;
        d.Parse(r.raw->body.c_str());
        if (!d.IsObject()) return json_response(400, R"({"error":"the body must be a JSON object"})");
        if (d.HasMember("reject") && d["reject"].IsTrue()) return json_response(422, R"({"error":"rejected on purpose"})");
        std::lock_guard lock(mutex_);
        received_.push_back(r.raw->body);
        return json_response(201, R"({"id":)" + std::to_string(received_.size()) + "}");
    }

    const Options& o_;
    TokenIssuer tokens_;
    mutable std::mutex mutex_;
    std::vector<std::string> received_;
    std::map<std::string, std::chrono::steady_clock::time_point> sessions_;  // token -> expiry
    long logins_ = 0;
    std::atomic<long> requests_{0};
    std::atomic<long> throttled_{0};
};

}  // namespace

std::unique_ptr<Api> make_lab(const Options& o) { return std::make_unique<Lab>(o); }

}  // namespace junction::sim
