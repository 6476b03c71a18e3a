// The API the SDK's starter template talks to (sdk/template): items behind a bearer token,
// read by page number (per_page up to 100) oldest-first by updated_at, at or after
// ?updated_since=, and created one per POST (201 with the new item and its id; 422 with a
// message for an item that asks to be refused with "reject": true). Item i (1..--items)
// was updated at 2026-01-01T00:00:00Z + i minutes.
#include "sim_api.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace junction::sim {

namespace {

constexpr time_t kFirst = 1767225600;  // 2026-01-01T00:00:00Z

class Items final : public Api {
public:
    explicit Items(const Options& o) : o_(o) {}

    CannedResponse handle(const Request& r) override {
        ++requests_;
        if (r.header("authorization") != "Bearer " + o_.token) return json_response(401, R"({"message":"bad token"})");
        if (r.path != "/items") return json_response(404, R"({"message":"no such resource"})");
        if (r.method == "GET") return list(r);
        if (r.method == "POST") return create(r);
        return json_response(405, R"({"message":"GET or POST"})");
    }

    std::string received() const override {
        std::lock_guard lock(mutex_);
        std::string out = R"({"requests":)" + std::to_string(requests_.load()) + R"(,"refused":)" +
                          std::to_string(refused_) + R"(,"created":[)";
        for (size_t i = 0; i < created_.size(); ++i) out += (i ? "," : "") + created_[i];
        return out + "]}";
    }

private:
    static std::string item(long i) {
        return R"({"id":)" + std::to_string(i) + R"(,"name":"item )" + std::to_string(i) + R"(","updated_at":")" +
               iso_utc(kFirst + 60 * i) + R"("})";
    }

    CannedResponse list(const Request& r) {
        const long page = std::stol(r.param("page", "1")), per_page = std::min(std::stol(r.param("per_page", "10")), 100L);
        if (page < 1 || per_page < 1) return json_response(400, R"({"message":"page and per_page start at 1"})");
        long first = 1;  // the first item at or after updated_since
        if (const std::string since = r.param("updated_since"); !since.empty()) {
            const time_t t = parse_iso_utc(since);
            if (t < 0) return json_response(400, R"({"message":"updated_since is not a date-time"})");
            first = std::max(1L, static_cast<long>((t - kFirst + 59) / 60));
        }
        const long from = first + (page - 1) * per_page, to = std::min(o_.items, from + per_page - 1);
        std::string body = "[";
        for (long i = from; i <= to; ++i) body += (i > from ? "," : "") + item(i);
        return json_response(200, body + "]");
    }

    CannedResponse create(const Request& r) {
        rapidjson::Document d;
        d.Parse(r.raw->body.c_str(), r.raw->body.size());
        if (d.HasParseError() || !d.IsObject()) return json_response(400, R"({"message":"the body must be a JSON object"})");
        std::lock_guard lock(mutex_);
        if (d.HasMember("reject") && d["reject"].IsTrue()) {
            ++refused_;
            return json_response(422, R"({"message":"item refused: it asked to be"})");
        }
        const std::string id = std::to_string(100000 + created_.size());
        std::string body = r.raw->body;
        body.insert(body.find('{') + 1, R"("id":)" + id + ",");
        created_.push_back(body);
        return json_response(201, body);
    }

    Options o_;
    std::atomic<long> requests_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> created_;
    long refused_ = 0;
};

}  // namespace

std::unique_ptr<Api> make_items(const Options& o) { return std::make_unique<Items>(o); }

}  // namespace junction::sim
