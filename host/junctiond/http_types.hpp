// The daemon's HTTP request and response, free of Beast so handlers and their tests do not
// pull in the networking headers.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace junction::daemon {

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string path;    // without the query string
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> params;  // from the route pattern: {name}
    std::string authorization;                  // the Authorization header
    std::string body;
};

struct HttpResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
};

// Percent-decodes a URL component ("a%20b" -> "a b", '+' stays '+').
std::string url_decode(std::string_view text);

// Splits "/v1/x?a=1&b=2" into path and decoded query parameters.
void split_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query);

}  // namespace junction::daemon
