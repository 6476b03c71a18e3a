// GET /v1/openapi.json: the API's description, compiled in from api/openapi.json. A test
// checks that it lists exactly the routes the daemon serves.
#include "admin_api.hpp"
#include "api_json.hpp"

#include "openapi_document.hpp"

namespace junction::daemon {

void add_openapi_route(Router& router) {
    router.add("GET", "/v1/openapi.json", [](HttpRequest&) { return json_response(200, kOpenApiDocument); });
}

}  // namespace junction::daemon
