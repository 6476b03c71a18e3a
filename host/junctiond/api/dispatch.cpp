#include "admin_api.hpp"
#include "api_json.hpp"

#include <junction/core/log.hpp>

#include <openssl/crypto.h>

namespace junction::daemon {

namespace {

bool token_matches(const std::string& header, const std::string& token) {
    const std::string expected = "Bearer " + token;
    return header.size() == expected.size() &&
           CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

std::function<HttpResponse(HttpRequest&)> make_dispatch(const Router& router, std::string token) {
    return [&router, token = std::move(token)](HttpRequest& request) -> HttpResponse {
        bool path_known = false;
        const Route* route = router.match(request, path_known);
        if (route && !route->public_route && !token_matches(request.authorization, token)) {
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
                core::log_error("api", request.method + " " + request.path + ": " + e.what());
            return error_response(e);
        } catch (const std::exception& e) {
            core::log_error("api", request.method + " " + request.path + ": " + e.what());
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
