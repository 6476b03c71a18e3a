// A Voyado-style customer platform (contacts): an API key in the "apikey" header,
// contacts read by offset and count with the total in the answer ({"totalCount", "items"}),
// contacts created by POST (201 with the new contact's id; 409 for an email already
// there). Contacts are generated from their index.
#include "sim_api.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <vector>

namespace junction::sim {

namespace {

class Voyado final : public Api {
public:
    explicit Voyado(const Options& o) : o_(o) {}

    CannedResponse handle(const Request& r) override {
        ++requests_;
        if (r.header("apikey") != o_.token) return json_response(401, R"({"message":"Authorization has been denied for this request."})");
        if (r.method == "GET" && r.path == "/api/v2/contacts") return list(r);
        if (r.method == "POST" && r.path == "/api/v2/contacts") return create(r);
        return json_response(404, R"({"message":"No HTTP resource was found that matches the request URI."})");
    }

    std::string received() const override {
        std::lock_guard lock(mutex_);
        std::string out = R"({"requests":)" + std::to_string(requests_.load()) + R"(,"created":[)";
        for (size_t i = 0; i < created_.size(); ++i) out += (i ? "," : "") + created_[i];
        return out + "]}";
    }

private:
    static std::string id_of(long i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "c0a8%04lx-0000-4000-8000-%012ld", i % 0x10000, i % 1'000'000'000'000);
        return buf;
    }
    static std::string contact(long i, const std::string& email, const std::string& first, const std::string& last) {
        return R"({"id":")" + id_of(i) + R"(","memberNumber":")" + std::to_string(500000 + i) + R"(","email":)" +
               json_string(email) + R"(,"firstName":)" + json_string(first) + R"(,"lastName":)" + json_string(last) +
               R"(,"lastModified":")" + iso_utc(1767225600 + 60 * i) + R"("})";
    }

    CannedResponse list(const Request& r) {
        const long offset = std::stol(r.param("offset", "0")), count = std::min(std::stol(r.param("count", "100")), 1000L);
        if (offset < 0 || count < 1) return json_response(400, R"({"message":"offset and count must be positive"})");
        const long end = std::min(o_.items, offset + count);
        std::string body = R"({"totalCount":)" + std::to_string(o_.items) + R"(,"offset":)" + std::to_string(offset) +
                           R"(,"count":)" + std::to_string(std::max(0L, end - offset)) + R"(,"items":[)";
        for (long i = offset; i < end; ++i)
            body += (i > offset ? "," : "") + contact(i, "member" + std::to_string(i) + "@example.com", "Ada", "Lovelace");
        return json_response(200, body + "]}");
    }

    CannedResponse create(const Request& r) {
        rapidjson::Document d;
        d.Parse(r.raw->body.c_str());
        if (!d.IsObject() || !d.HasMember("email") || !d["email"].IsString())
            return json_response(400, R"({"message":"email is required"})");
        auto text = [&](const char* k) { return d.HasMember(k) && d[k].IsString() ? std::string(d[k].GetString()) : std::string(); };
        std::lock_guard lock(mutex_);
        if (!emails_.insert(text("email")).second)
            return json_response(409, R"({"message":"A contact with this email already exists"})");
        const std::string made = contact(1'000'000 + static_cast<long>(created_.size()), text("email"), text("firstName"), text("lastName"));
        created_.push_back(made);
        return json_response(201, made);
    }

    const Options& o_;
    mutable std::mutex mutex_;
    std::vector<std::string> created_;
    std::set<std::string> emails_;
    std::atomic<long> requests_{0};
};

}  // namespace

std::unique_ptr<Api> make_voyado(const Options& o) { return std::make_unique<Voyado>(o); }

}  // namespace junction::sim
