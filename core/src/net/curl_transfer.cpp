#include "curl_transfer.hpp"

#include <strings.h>

#include <algorithm>

namespace junction::core::net {

namespace {

std::string to_string(jn_str s) { return std::string(s.ptr ? s.ptr : "", s.len); }

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
        while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
        return s;
    };
    t->headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
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

HttpExchange exchange_of(const jn_http_request& request) {
    HttpExchange x;
    x.method = to_string(request.method);
    x.url = to_string(request.url);
    for (size_t i = 0; i < request.header_count; ++i)
        x.request_headers.emplace_back(to_string(request.headers[i].name), to_string(request.headers[i].value));
    x.request_body = to_string(request.body);
    return x;
}

void init_curl_once() {
    static const bool done = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return true;
    }();
    (void)done;
}

jn_status check_request(const jn_http_request& request, std::string& error) {
    const std::string_view url(request.url.ptr ? request.url.ptr : "", request.url.len);
    const std::string_view method(request.method.ptr ? request.method.ptr : "", request.method.len);
    if (!(url.starts_with("http://") || url.starts_with("https://"))) {
        error = "only http:// and https:// URLs are allowed, got '" + std::string(url.substr(0, 64)) + "'";
        return JN_ERR_INVALID_REQUEST;
    }
    if (method.empty() || method.find_first_of(std::string_view(" \r\n\0", 4)) != std::string_view::npos) {
        error = "invalid HTTP method";
        return JN_ERR_INVALID_REQUEST;
    }
    return JN_OK;
}

void configure(CURL* c, const jn_http_request& request, const HttpOptions& options, Transfer& t) {
    const std::string url = to_string(request.url);
    const std::string method = to_string(request.method);
    t.max_bytes = options.max_response_bytes;
    t.timeout_ms = request.timeout_ms ? request.timeout_ms : options.default_timeout_ms;
    std::string line;
    for (size_t i = 0; i < request.header_count; ++i) {
        line.assign(request.headers[i].name.ptr ? request.headers[i].name.ptr : "", request.headers[i].name.len);
        line += ": ";
        line.append(request.headers[i].value.ptr ? request.headers[i].value.ptr : "", request.headers[i].value.len);
        t.header_list = curl_slist_append(t.header_list, line.c_str());
    }

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
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t.header_list);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(t.timeout_ms));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(t.timeout_ms, options.connect_timeout_ms)));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    if (!options.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_response_bytes));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

jn_status conclude(CURL* c, CURLcode rc, const Transfer& t, const HttpOptions& options, long& code,
                   std::string& error) {
    code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        error = "response larger than the host's cap of " + std::to_string(options.max_response_bytes) + " bytes";
        return JN_ERR_TOO_LARGE;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        error = "cancelled";
        return JN_ERR_CANCELLED;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        error = "no complete response within " + std::to_string(t.timeout_ms) + " ms";
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
    return JN_OK;
}

void deliver(long code, const Transfer& t, jn_http_response_fn on_response, void* user) {
    std::vector<jn_http_header> views;
    views.reserve(t.headers.size());
    for (const auto& [k, v] : t.headers) views.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    jn_http_response response{};
    response.struct_size = sizeof response;
    response.status_code = static_cast<uint32_t>(code);
    response.headers = views.data();
    response.header_count = views.size();
    response.body = {t.body.data(), t.body.size()};
    on_response(user, &response);
}

}  // namespace junction::core::net
