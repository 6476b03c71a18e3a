#include "admin_api.hpp"
#include "api_json.hpp"

#include <junction/core/common/log.hpp>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>

#include <strings.h>

namespace junction::daemon {

namespace {

using TokenDigest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

TokenDigest digest_of(std::string_view token) {
    TokenDigest out{};
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), out.data());
    return out;
}

// "Bearer <token>": the scheme is case-insensitive (RFC 7235), spaces may repeat. The
// daemon keeps only the token's SHA-256 (its memory holds no token to find) and compares
// digests in constant time.
bool token_matches(const std::string& header, const TokenDigest& expected) {
    constexpr std::string_view scheme = "bearer ";
    if (header.size() < scheme.size() || strncasecmp(header.c_str(), scheme.data(), scheme.size()) != 0) return false;
    const size_t start = header.find_first_not_of(' ', scheme.size());
    if (start == std::string::npos) return false;
    const TokenDigest given = digest_of(std::string_view(header).substr(start));
    return CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

}  // namespace

TokenCheck make_token_check(std::string_view token) {
    return [expected = digest_of(token)](const std::string& authorization) {
        return token_matches(authorization, expected);
    };
}

std::function<HttpResponse(HttpRequest&)> make_dispatch(const Router& router, TokenCheck token_check) {
    return [&router, token_check = std::move(token_check)](HttpRequest& request) -> HttpResponse {
        bool path_known = false;
        const Route* route = router.match(request, path_known);
        if (route && !route->public_route && !token_check(request.authorization)) {
            return error_response(401, "unauthorized",
                                  "missing or wrong admin token: send 'Authorization: Bearer "
                                  "<token>' (the token is in <state-dir>/admin.token)");
        }
        if (!route) {
            if (path_known)
                return error_response(405, "method_not_allowed",
                                      request.method + " is not allowed on " + request.path);
            return error_response(404, "not_found", "no such endpoint: " + request.path +
                                                        " (see /v1/openapi.json)");
        }
        try {
            return route->handler(request);
        } catch (const core::Error& e) {
            if (e.code() == core::Errc::internal || e.code() == core::Errc::io)
                core::log_error("api", request.method + " " + route->pattern + ": " + e.what());
            return error_response(e);
        } catch (const std::exception& e) {
            // The route's pattern, not the path: a webhook's path carries its secret.
            core::log_error("api", request.method + " " + route->pattern + ": " + e.what());
            return error_response(500, "internal", "the daemon failed to handle the request");
        }
    };
}

void add_health_routes(Router& router) {
    router.add("GET", "/healthz", [](HttpRequest&) { return json_response(200, R"({"status":"ok"})"); },
               true);
    router.add("GET", "/readyz", [](HttpRequest&) { return json_response(200, R"({"status":"ready"})"); },
               true);
}

}  // namespace junction::daemon
