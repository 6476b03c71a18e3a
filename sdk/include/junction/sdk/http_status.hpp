// From an API's answer to the ABI's terms: which status a failed HTTP response is (so the
// host and flows know whether trying again can help), and an error that carries the API's
// own message.
#pragma once

#include <junction/plugin_api.h>
#include <junction/sdk/error.hpp>
#include <junction/sdk/host.hpp>
#include <junction/sdk/json.hpp>

#include <string>
#include <string_view>

namespace junction::sdk {

// 401/403 auth, 404/410 not found, 408 timeout, 413 too large, 429 rate limited, 5xx
// transient (retryable), any other 4xx an invalid request. Only for statuses >= 400.
inline jn_status status_for_http(int http_status) {
    if (http_status == 401 || http_status == 403) return JN_ERR_AUTH;
    if (http_status == 404 || http_status == 410) return JN_ERR_NOT_FOUND;
    if (http_status == 408) return JN_ERR_TIMEOUT;
    if (http_status == 413) return JN_ERR_TOO_LARGE;
    if (http_status == 429) return JN_ERR_RATE_LIMITED;
    if (http_status >= 500) return JN_ERR_TRANSIENT;
    return JN_ERR_INVALID_REQUEST;
}

// The API's own words from an error body: the first string among "message", "error",
// "error_description", "detail" and "title" (also inside an "error" object), else the start
// of the body on one line. At most 300 characters.
inline std::string api_message(std::string_view body) {
    constexpr size_t kMax = 300;
    std::string found;
    if (!body.empty() && (body.front() == '{' || body.front() == '[')) {
        JsonDocument doc;
        if (!junction::json::read(body, doc, {}) && doc.IsObject()) {
            const Json* object = &doc;
            if (auto e = doc.FindMember("error"); e != doc.MemberEnd() && e->value.IsObject()) object = &e->value;
            for (const char* key : {"message", "error", "error_description", "detail", "title"}) {
                auto m = object->FindMember(key);
                if (m != object->MemberEnd() && m->value.IsString()) {
                    found.assign(m->value.GetString(), m->value.GetStringLength());
                    break;
                }
            }
        }
    }
    if (found.empty()) found.assign(body.substr(0, kMax + 1));  // one more: a cut body says so
    for (char& c : found)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (found.size() > kMax) found = found.substr(0, kMax) + "...";
    return found;
}

// The Error for a failed response: its status from the HTTP status, its message
// "<what>: HTTP <status>: <the API's message>". `what` names the request for the user
// ("creating ticket 42"); never put a credential in it.
inline Error http_error(const HttpResponse& response, std::string_view what) {
    std::string message = std::string(what) + ": HTTP " + std::to_string(response.status);
    if (const std::string said = api_message(response.body); !said.empty()) message += ": " + said;
    return Error(status_for_http(response.status), message);
}

}  // namespace junction::sdk
