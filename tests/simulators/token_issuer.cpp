#include "token_issuer.hpp"

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <ctime>

namespace junction::sim {

namespace {

CannedResponse oauth_error(int status, const std::string& error, const std::string& description) {
    return json_response(status, R"({"error":)" + json_string(error) + R"(,"error_description":)" +
                                     json_string(description) + "}");
}

std::string basic(const std::string& user, const std::string& password) {
    const std::string in = user + ":" + password;
    std::string out(4 * ((in.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                    static_cast<int>(in.size()));
    return "Basic " + out;
}

}  // namespace

CannedResponse TokenIssuer::grant(const Request& r, const std::string& token_url) {
    if (r.method != "POST") return oauth_error(405, "invalid_request", "POST the token request");
    if (r.header("content-type").rfind("application/x-www-form-urlencoded", 0) != 0)
        return oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
    auto form = parse_form(r.raw->body);
    const std::string type = form["grant_type"];
    std::lock_guard lock(mutex_);
    if (refresh_token_.empty()) refresh_token_ = o_.refresh_token;
    if (type == "client_credentials" && form.count("client_assertion")) {
        if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            return oauth_error(400, "invalid_request", "unknown client_assertion_type");
        std::string claims_text, why;
        std::FILE* f = std::fopen(o_.public_key_file.c_str(), "rb");
        std::string pem;
        if (f) {
            char buf[4096];
            for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) pem.append(buf, n);
            std::fclose(f);
        }
        if (!verify_jwt(form["client_assertion"], pem, claims_text, why)) return oauth_error(400, "invalid_client", why);
        rapidjson::Document claims;
        claims.Parse(claims_text.c_str());
        const auto text = [&](const char* k) {
            return claims.IsObject() && claims.HasMember(k) && claims[k].IsString() ? std::string(claims[k].GetString()) : "";
        };
        const long now = static_cast<long>(std::time(nullptr));
        if (text("iss") != o_.client_id) return oauth_error(400, "invalid_client", "unknown issuer (client id)");
        if (text("aud") != token_url) return oauth_error(400, "invalid_grant", "the audience must be the token URL");
        if (!claims.HasMember("exp") || !claims["exp"].IsInt64() || claims["exp"].GetInt64() < now)
            return oauth_error(400, "invalid_grant", "the assertion has expired");
    } else if (type == "client_credentials") {
        if (!client_authenticated(r, form)) return oauth_error(401, "invalid_client", "client authentication failed");
    } else if (type == "refresh_token") {
        if (!client_authenticated(r, form)) return oauth_error(401, "invalid_client", "client authentication failed");
        if (form["refresh_token"] != refresh_token_)
            return oauth_error(400, "invalid_grant", "the refresh token is invalid or was already used");
    } else {
        return oauth_error(400, "unsupported_grant_type", "grant_type " + type + " is not supported");
    }
    ++grants_;
    const std::string token = "tok-" + std::to_string(++serial_) + "-" + std::to_string(std::time(nullptr));
    tokens_[token] = std::chrono::steady_clock::now() + std::chrono::seconds(o_.token_ttl_s);
    std::string body = R"({"access_token":)" + json_string(token) + R"(,"token_type":"Bearer","expires_in":)" +
                       std::to_string(o_.token_ttl_s);
    if (type == "refresh_token") {  // rotation: the old refresh token is spent
        refresh_token_ = "refresh-" + std::to_string(serial_);
        body += R"(,"refresh_token":)" + json_string(refresh_token_);
    }
    return json_response(200, body + "}");
}

bool TokenIssuer::client_authenticated(const Request& r, std::map<std::string, std::string>& form) const {
    if (o_.client_auth == "body")  // client_secret_post, and only that (HubSpot-style)
        return r.header("authorization").empty() && form["client_id"] == o_.client_id &&
               form["client_secret"] == o_.client_secret;
    return r.header("authorization") == basic(o_.client_id, o_.client_secret) && !form.count("client_secret");
}

bool TokenIssuer::authorized(const Request& r) {
    const std::string header = r.header("authorization");
    if (header.rfind("Bearer ", 0) != 0) return false;
    if (!o_.bench_token.empty() && header.compare(7, std::string::npos, o_.bench_token) == 0) return true;
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(header.substr(7));
    return it != tokens_.end() && it->second > std::chrono::steady_clock::now();
}

void TokenIssuer::revoke() {
    std::lock_guard lock(mutex_);
    tokens_.clear();
}

}  // namespace junction::sim
