// One request as libcurl carries it: checking it, setting up an easy handle for it, and
// turning libcurl's result into the ABI's status and response. Shared by the host's two
// ways of sending (http_client.cpp one at a time, http_batch.cpp many at once).
// Internal to core/src/net.
#pragma once

#include <junction/core/net/http_client.hpp>

#include <curl/curl.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace junction::core {

// An easy handle: one request at a time, kept with its connections between requests.
struct HttpClient::Handle {
    CURL* curl = curl_easy_init();
    ~Handle() { curl_easy_cleanup(curl); }
};

// A multi handle: many requests at once, with the connections they share.
struct HttpClient::Multi {
    CURLM* multi = curl_multi_init();
    ~Multi() { curl_multi_cleanup(multi); }
};

}  // namespace junction::core

namespace junction::core::net {

struct Transfer {
    Transfer() = default;
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;
    ~Transfer() { curl_slist_free_all(header_list); }

    size_t max_bytes = 0;
    bool too_large = false;
    const std::atomic<bool>* cancelled = nullptr;
    uint32_t timeout_ms = 0;
    curl_slist* header_list = nullptr;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// JN_OK, or why the request cannot be sent (a URL that is not http(s), a broken method).
jn_status check_request(const jn_http_request& request, std::string& error);

// Sets `easy` up for `request`, its callbacks writing into `t`. The request's body must
// outlive the transfer (libcurl does not copy it).
void configure(CURL* easy, const jn_http_request& request, const HttpOptions& options, Transfer& t);

// What the finished transfer came to: JN_OK with the HTTP status in `code`, or a status
// and `error` in words (never a header value).
jn_status conclude(CURL* easy, CURLcode rc, const Transfer& t, const HttpOptions& options, long& code,
                   std::string& error);

// Hands the response to `on_response` (views into `t`, valid during the call).
void deliver(long code, const Transfer& t, jn_http_response_fn on_response, void* user);

// The request as an observer sees it (HttpOptions::observer), before it is sent.
HttpExchange exchange_of(const jn_http_request& request);

// libcurl's global setup, once per process, before the first handle.
void init_curl_once();

}  // namespace junction::core::net
