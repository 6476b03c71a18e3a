#include <junction/core/net/http_client.hpp>

#include "curl_transfer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>

namespace junction::core {

HttpClient::HttpClient(HttpOptions options) : options_(options) { net::init_curl_once(); }

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::acquire() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return std::make_unique<Handle>();
    auto h = std::move(idle_.back());
    idle_.pop_back();
    return h;
}

void HttpClient::release(std::unique_ptr<Handle> handle) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < 16) idle_.push_back(std::move(handle));
}

jn_status HttpClient::perform(const jn_http_request& request, jn_http_response_fn on_response, void* user,
                              const std::atomic<bool>* cancelled, std::string& error) {
    if (!options_.observer) return perform_once(request, on_response, user, cancelled, error);
    struct Seen {
        jn_http_response_fn on_response;
        void* user;
        HttpExchange exchange;
    } seen{on_response, user, {}};
    HttpExchange& x = seen.exchange = net::exchange_of(request);
    const auto started = std::chrono::steady_clock::now();
    const jn_status s = perform_once(
        request,
        [](void* u, const jn_http_response* r) {
            auto* seen = static_cast<Seen*>(u);
            seen->exchange.status = static_cast<int>(r->status_code);
            seen->exchange.response_bytes = r->body.len;
            seen->on_response(seen->user, r);
        },
        &seen, cancelled, error);
    x.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    if (s != JN_OK) x.error = error;
    options_.observer(x);
    return s;
}

jn_status HttpClient::perform_once(const jn_http_request& request, jn_http_response_fn on_response, void* user,
                                   const std::atomic<bool>* cancelled, std::string& error) {
    if (const jn_status s = net::check_request(request, error); s != JN_OK) return s;
    auto handle = acquire();
    CURL* c = handle->curl;
    curl_easy_reset(c);  // keeps the connection cache of this handle
    net::Transfer t;
    t.cancelled = cancelled;
    net::configure(c, request, options_, t);
    const CURLcode rc = curl_easy_perform(c);
    long code = 0;
    const jn_status s = net::conclude(c, rc, t, options_, code, error);
    release(std::move(handle));
    if (s == JN_OK) net::deliver(code, t, on_response, user);
    return s;
}

bool HttpClient::send(std::string_view method, const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::string_view body, Result& result, std::string& error) {
    std::vector<jn_http_header> views;
    for (const auto& [k, v] : headers) views.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    jn_http_request request{};
    request.struct_size = sizeof request;
    request.method = {method.data(), method.size()};
    request.url = {url.data(), url.size()};
    request.headers = views.data();
    request.header_count = views.size();
    request.body = {body.data(), body.size()};
    const jn_status s = perform(
        request,
        [](void* user, const jn_http_response* r) {
            auto* out = static_cast<Result*>(user);
            out->status = static_cast<int>(r->status_code);
            out->body.assign(r->body.ptr ? r->body.ptr : "", r->body.len);
            for (size_t i = 0; i < r->header_count; ++i)
                out->headers.emplace_back(std::string(r->headers[i].name.ptr, r->headers[i].name.len),
                                          std::string(r->headers[i].value.ptr, r->headers[i].value.len));
        },
        &result, nullptr, error);
    return s == JN_OK;
}

}  // namespace junction::core
