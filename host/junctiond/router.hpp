// Maps "METHOD /v1/things/{name}" patterns to handlers. The route table is also what the
// OpenAPI check compares against the published document.
#pragma once

#include "http_types.hpp"

#include <functional>
#include <string>
#include <vector>

namespace junction::daemon {

using Handler = std::function<HttpResponse(HttpRequest&)>;

struct Route {
    std::string method;
    std::string pattern;  // "/v1/instances/{name}"
    Handler handler;
    bool public_route = false;  // served without the admin token
};

class Router {
public:
    void add(std::string method, std::string pattern, Handler handler, bool public_route = false);

    // The route for a request (filling request.params), or null. `path_known` says whether
    // some route matched the path with another method (405 rather than 404).
    const Route* match(HttpRequest& request, bool& path_known) const;

    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
};

}  // namespace junction::daemon
