#include "api_json.hpp"

#include <junction/core/common/json.hpp>

#include <charconv>

#include <algorithm>

namespace junction::daemon {

using core::Errc;
using core::Error;

std::string json_string(std::string_view text) { return core::json_quote(text); }

rapidjson::Document parse_body(const HttpRequest& request,
                               std::initializer_list<std::string_view> allowed) {
    // Depth, UTF-8, duplicate keys, numbers: refused here with what and where.
    rapidjson::Document doc;
    try {
        doc = core::parse_json_text(request.body, "the request body");
    } catch (const Error& e) {
        if (e.message().find(" is not valid JSON") == std::string::npos) throw;
        throw Error(Errc::invalid_argument,
                    "the request body must be a JSON object (Content-Type: application/json); " + e.message());
    }
    if (!doc.IsObject())
        throw Error(Errc::invalid_argument,
                    "the request body must be a JSON object (Content-Type: application/json)");
    for (const auto& m : doc.GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            std::string list;
            for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            throw Error(Errc::invalid_argument,
                        "unknown field '" + std::string(name) + "'; allowed fields: " + list);
        }
    }
    return doc;
}

std::optional<std::string> optional_string(const rapidjson::Value& body, const char* key) {
    auto it = body.FindMember(key);
    if (it == body.MemberEnd() || it->value.IsNull()) return std::nullopt;
    if (!it->value.IsString())
        throw Error(Errc::invalid_argument, "field '" + std::string(key) + "' must be a string");
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string member_json(const rapidjson::Value& body, const char* key, std::string fallback) {
    auto it = body.FindMember(key);
    if (it == body.MemberEnd()) return fallback;
    return core::write_json(it->value);
}

HttpResponse json_response(int status, std::string body) {
    return HttpResponse{status, std::move(body), "application/json", {}};
}

HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            const std::vector<std::string>& details) {
    std::string body = R"({"error":{"code":)" + json_string(code) +
                       R"(,"message":)" + json_string(message) + R"(,"details":[)";
    for (size_t i = 0; i < details.size(); ++i) body += (i ? "," : "") + json_string(details[i]);
    body += "]}}";
    return json_response(status, std::move(body));
}

HttpResponse error_response(const Error& e) {
    int status = 500;
    switch (e.code()) {
        case Errc::invalid_argument: status = 400; break;
        case Errc::not_found: status = 404; break;
        case Errc::already_exists:
        case Errc::conflict: status = 409; break;
        case Errc::plugin_rejected: status = 422; break;
        case Errc::plugin_failed: status = 502; break;
        case Errc::io:
        case Errc::internal: status = 500; break;
    }
    return error_response(status, core::errc_name(e.code()), e.what(), e.details());
}

std::string query_or(const HttpRequest& request, const char* key) {
    auto it = request.query.find(key);
    return it == request.query.end() ? "" : it->second;
}

int64_t number_param(const HttpRequest& request, const char* key, int64_t fallback, int64_t min, int64_t max) {
    auto it = request.query.find(key);
    if (it == request.query.end()) return fallback;
    int64_t n = 0;
    const auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || n < min || n > max)
        throw Error(Errc::invalid_argument, std::string(key) + " must be a whole number from " + std::to_string(min) +
                                                " to " + std::to_string(max));
    return n;
}

}  // namespace junction::daemon
