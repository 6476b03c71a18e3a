#include <junction/core/net/http_client.hpp>

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <chrono>

namespace junction::core {

namespace {

std::string to_string(jn_str s) { return std::string(s.ptr ? s.ptr : "", s.len); }

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Transfer {
    size_t max_bytes = 0;
    bool too_large = false;
    const std::atomic<bool>* cancelled = nullptr;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    if (t->body.size() + n > t->max_bytes) {
        t->too_large = true;
        return 0;  // aborts the transfer
    }
    t->body.append(data, n);
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        t->headers.clear();  // a new response (after a redirect or 100-continue)
        return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
            s.remove_suffix(1);
        return s;
    };
    t->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                            std::string(trim(line.substr(colon + 1))));
    // The body's size, when announced: one allocation instead of a growing copy.
    const auto& [name, value] = t->headers.back();
    if (name.size() == 14 && strncasecmp(name.c_str(), "Content-Length", 14) == 0) {
        const size_t length = std::strtoull(value.c_str(), nullptr, 10);
        if (length <= t->max_bytes) t->body.reserve(length);
    }
    return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    return (t->cancelled && t->cancelled->load(std::memory_order_relaxed)) ? 1 : 0;
}

}  // namespace

struct HttpClient::Handle {
    CURL* curl = curl_easy_init();
    ~Handle() { curl_easy_cleanup(curl); }
};

HttpClient::HttpClient(HttpOptions options) : options_(options) {
    static CurlGlobal global;
}

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
    HttpExchange& x = seen.exchange;
    x.method = to_string(request.method);
    x.url = to_string(request.url);
    for (size_t i = 0; i < request.header_count; ++i)
        x.request_headers.emplace_back(to_string(request.headers[i].name), to_string(request.headers[i].value));
    x.request_body = to_string(request.body);
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
    const std::string url = to_string(request.url);
    const std::string method = to_string(request.method);
    if (!(url.starts_with("http://") || url.starts_with("https://"))) {
        error = "only http:// and https:// URLs are allowed, got '" + url.substr(0, 64) + "'";
        return JN_ERR_INVALID_REQUEST;
    }
    if (method.empty() || method.find_first_of(" \r\n") != std::string::npos) {
        error = "invalid HTTP method";
        return JN_ERR_INVALID_REQUEST;
    }

    auto handle = acquire();
    CURL* c = handle->curl;
    curl_easy_reset(c);  // keeps the connection cache of this handle
    Transfer t;
    t.max_bytes = options_.max_response_bytes;
    t.cancelled = cancelled;

    curl_slist* headers = nullptr;
    for (size_t i = 0; i < request.header_count; ++i) {
        const std::string line = to_string(request.headers[i].name) + ": " +
                                 to_string(request.headers[i].value);
        headers = curl_slist_append(headers, line.c_str());
    }
    const uint32_t timeout = request.timeout_ms ? request.timeout_ms : options_.default_timeout_ms;

    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (request.body.len > 0 || method == "POST" || method == "PUT" || method == "PATCH") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.ptr ? request.body.ptr : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.len));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(timeout, options_.connect_timeout_ms)));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_bytes));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    release(std::move(handle));

    if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        error = "response larger than the host's cap of " +
                std::to_string(options_.max_response_bytes) + " bytes";
        return JN_ERR_TOO_LARGE;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        error = "cancelled";
        return JN_ERR_CANCELLED;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        error = "no complete response within " + std::to_string(timeout) + " ms";
        return JN_ERR_TIMEOUT;
    }
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
        error = curl_easy_strerror(rc);
        return JN_ERR_INVALID_REQUEST;
    }
    if (rc != CURLE_OK) {
        error = curl_easy_strerror(rc);
        return JN_ERR_TRANSIENT;
    }

    std::vector<jn_http_header> views;
    views.reserve(t.headers.size());
    for (const auto& [k, v] : t.headers)
        views.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    jn_http_response response{};
    response.struct_size = sizeof response;
    response.status_code = static_cast<uint32_t>(code);
    response.headers = views.data();
    response.header_count = views.size();
    response.body = {t.body.data(), t.body.size()};
    on_response(user, &response);
    return JN_OK;
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
