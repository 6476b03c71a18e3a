// JSON in and out of the admin API: bodies with unknown fields rejected by name, and the
// one error shape {"error":{"code","message","details"}}.
#pragma once

#include "../http_types.hpp"

#include <junction/core/common/error.hpp>

#include <rapidjson/document.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace junction::daemon {

// The request body as a JSON object whose every field is one of `allowed`. Throws
// core::Error(invalid_argument) naming what is wrong.
rapidjson::Document parse_body(const HttpRequest& request,
                               std::initializer_list<std::string_view> allowed);

std::optional<std::string> optional_string(const rapidjson::Value& body, const char* key);
// The value of `key` serialised (for nested objects such as a config); `fallback` if absent.
std::string member_json(const rapidjson::Value& body, const char* key, std::string fallback);

HttpResponse json_response(int status, std::string body);
HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            const std::vector<std::string>& details = {});
// Maps a core error to its HTTP status and error code.
HttpResponse error_response(const core::Error& error);

// A query parameter, "" when absent.
std::string query_or(const HttpRequest& request, const char* key);
// A whole-number query parameter from `min` to `max`, `fallback` when absent; throws
// core::Error(invalid_argument) naming the parameter and the range otherwise.
int64_t number_param(const HttpRequest& request, const char* key, int64_t fallback, int64_t min, int64_t max);
// ?limit= of a paged list: 1 to 1000, 100 when absent.
inline size_t limit_param(const HttpRequest& request) {
    return static_cast<size_t>(number_param(request, "limit", 100, 1, 1000));
}

// Escapes text as a JSON string literal, quotes included.
std::string json_string(std::string_view text);

}  // namespace junction::daemon
