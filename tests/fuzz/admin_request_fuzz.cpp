// Fuzzes the admin API's request path: the bytes a client sends, read by a Beast
// request_parser with the daemon's limits (admin_server.cpp), then the target split into
// path and query and routed through the daemon's Router over the published route table
// (api/openapi.json, which the API test keeps equal to the real one).
#include "http_types.hpp"
#include "openapi_document.hpp"
#include "router.hpp"

#include <boost/beast/http.hpp>
#include <rapidjson/document.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using junction::daemon::HttpRequest;
using junction::daemon::HttpResponse;
using junction::daemon::Router;

constexpr size_t kMaxBody = 1u << 20;  // ServerOptions::max_body_bytes

const Router& router() {
    static const Router r = [] {
        Router out;
        rapidjson::Document doc;
        doc.Parse(junction::daemon::kOpenApiDocument);
        if (doc.HasParseError() || !doc.HasMember("paths")) std::abort();
        for (const auto& path : doc["paths"].GetObject()) {
            for (const auto& op : path.value.GetObject()) {
                std::string method = op.name.GetString();
                if (method != "get" && method != "post" && method != "put" && method != "patch" &&
                    method != "delete")
                    continue;
                for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                out.add(method, path.name.GetString(), [](HttpRequest&) { return HttpResponse{}; },
                        std::string_view(path.name.GetString()).starts_with("/v1/") == false);
            }
        }
        return out;
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    parser.eager(true);
    beast::error_code ec;
    const char* at = reinterpret_cast<const char*>(data);
    size_t left = size;
    // As async_read does: feed what arrived until the message is done or broken.
    while (left > 0 && !parser.is_done()) {
        const size_t used = parser.put(boost::asio::buffer(at, left), ec);
        if (ec == http::error::need_more) {
            ec = {};
            break;
        }
        if (ec || used == 0) break;
        at += used;
        left -= used;
    }
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;  // the daemon answers 400 / 413 and closes

    auto request = parser.release();
    HttpRequest req;
    req.method = std::string(request.method_string());
    const auto target = request.target();
    junction::daemon::split_target(std::string_view(target.data(), target.size()), req.path, req.query);
    req.authorization = std::string(request[http::field::authorization]);
    req.body = std::move(request.body());
    bool path_known = false;
    if (const auto* route = router().match(req, path_known)) (void)route->handler(req);
    return 0;
}
