// NetSuite REST web services: the OAuth 2.0 machine-to-machine token endpoint (client
// credentials with a JWT assertion signed by the integration's certificate), and the
// record API for sales orders and customers: upsert by PUT /{type}/eid:{externalId},
// create by POST, list with limit/offset. Remembers every record and how often each
// external id was written, so tests can check "none lost, none twice".
#include "sim_api.hpp"
#include "token_issuer.hpp"

#include <chrono>
#include <map>
#include <mutex>

namespace junction::sim {

namespace {

const std::string kRecordPrefix = "/services/rest/record/v1/";
const std::string kTokenPath = "/services/rest/auth/oauth2/v1/token";

CannedResponse ns_error(int status, const std::string& title, const std::string& detail) {
    return json_response(status, R"({"type":"https://www.rfc-editor.org/rfc/rfc9110.html","title":)" + json_string(title) +
                                     R"(,"status":)" + std::to_string(status) + R"(,"o:errorDetails":[{"detail":)" +
                                     json_string(detail) + "}]}");
}

class NetSuite final : public Api {
public:
    explicit NetSuite(const Options& o) : o_(o), tokens_(o) {}

    CannedResponse handle(const Request& r) override {
        if (r.path == kTokenPath) return tokens_.grant(r, o_.base_url + kTokenPath);
        if (r.path.rfind(kRecordPrefix, 0) != 0) return ns_error(404, "Not Found", "no such resource");
        if (!tokens_.authorized(r)) return ns_error(401, "Unauthorized", "Invalid login attempt.");
        const std::string rest = r.path.substr(kRecordPrefix.size());
        const size_t slash = rest.find('/');
        const std::string type = rest.substr(0, slash);
        if (type != "salesOrder" && type != "customer") return ns_error(404, "Not Found", "record type " + type);
        if (slash == std::string::npos) {
            if (r.method == "POST") return create(type, r.raw->body);
            if (r.method == "GET") return list(type, r);
            return ns_error(405, "Method Not Allowed", r.method);
        }
        const std::string key = rest.substr(slash + 1);
        if (r.method == "PUT" && key.rfind("eid:", 0) == 0) return upsert(type, url_decode(key.substr(4)), r.raw->body);
        return ns_error(405, "Method Not Allowed", r.method + " " + key);
    }

    std::string received() const override {
        std::lock_guard lock(mutex_);
        std::string out = "{";
        for (const auto& [type, records] : records_) {
            out += (out.size() > 1 ? "," : "") + json_string(type) + ":{";
            bool first = true;
            for (const auto& [eid, rec] : records) {
                out += (first ? "" : ",") + json_string(eid) + R"(:{"writes":)" + std::to_string(rec.writes) +
                       R"(,"body":)" + rec.body + "}";
                first = false;
            }
            out += "}";
        }
        return out + R"(,"token_grants":)" + std::to_string(tokens_.grants()) + "}";
    }

    void revoke_tokens() override { tokens_.revoke(); }

    std::string stats() const override {
        std::lock_guard lock(mutex_);
        size_t records = 0;
        for (const auto& [type, all] : records_) records += all.size();
        return R"({"writes":)" + std::to_string(writes_) + R"(,"records":)" + std::to_string(records) +
               R"(,"first_write_ms":)" + std::to_string(first_write_ms_) + R"(,"last_write_ms":)" +
               std::to_string(last_write_ms_) + "}";
    }

private:
    struct Stored {
        std::string body;
        long writes = 0;
        long internal_id = 0;
    };

    bool valid_body(const std::string& body) const { return !body.empty() && body.front() == '{' && body.back() == '}'; }

    CannedResponse upsert(const std::string& type, const std::string& eid, const std::string& body) {
        if (!valid_body(body)) return ns_error(400, "Bad Request", "the body must be a JSON object");
        std::lock_guard lock(mutex_);
        Stored& s = records_[type][eid];
        if (s.internal_id == 0) s.internal_id = ++next_id_;
        s.body = body;
        ++s.writes;
        note_write();
        return {204, {{"Location", o_.base_url + kRecordPrefix + type + "/" + std::to_string(s.internal_id)}}, ""};
    }

    CannedResponse create(const std::string& type, const std::string& body) {
        if (!valid_body(body)) return ns_error(400, "Bad Request", "the body must be a JSON object");
        std::lock_guard lock(mutex_);
        const long id = ++next_id_;
        Stored& s = records_[type]["id:" + std::to_string(id)];
        s.internal_id = id;
        s.body = body;
        s.writes = 1;
        note_write();
        return {204, {{"Location", o_.base_url + kRecordPrefix + type + "/" + std::to_string(id)}}, ""};
    }

    CannedResponse list(const std::string& type, const Request& r) {
        const long limit = std::stol(r.param("limit", "1000"));
        const long offset = std::stol(r.param("offset", "0"));
        std::lock_guard lock(mutex_);
        const auto& all = records_[type];
        std::string items;
        long i = 0, n = 0;
        for (const auto& [eid, s] : all) {
            if (i++ < offset || n >= limit) continue;
            items += (n++ ? "," : "") + (R"({"id":")" + std::to_string(s.internal_id) + R"(","externalId":)" +
                                         json_string(eid) + "}");
        }
        const long total = static_cast<long>(all.size());
        return json_response(200, R"({"links":[],"count":)" + std::to_string(n) + R"(,"hasMore":)" +
                                      (offset + n < total ? "true" : "false") + R"(,"items":[)" + items +
                                      R"(],"offset":)" + std::to_string(offset) + R"(,"totalResults":)" +
                                      std::to_string(total) + "}");
    }

    // Wall-clock stamps, comparable with another process's clock on the same machine.
    void note_write() {
        const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
        if (!first_write_ms_) first_write_ms_ = now;
        last_write_ms_ = now;
        ++writes_;
    }

    const Options& o_;
    TokenIssuer tokens_;
    int64_t first_write_ms_ = 0, last_write_ms_ = 0, writes_ = 0;
    mutable std::mutex mutex_;
    std::map<std::string, std::map<std::string, Stored>> records_;
    long next_id_ = 1000;
};

}  // namespace

std::unique_ptr<Api> make_netsuite(const Options& o) { return std::make_unique<NetSuite>(o); }

}  // namespace junction::sim
