// The one JSON entry point of core and the one writer for what the daemon writes. Every
// parse of text that did not come from this process goes through parse_json_text: it is
// iterative and bounded (depth, size), refuses invalid UTF-8, duplicate keys, numbers
// outside the double range and a leading byte-order mark. Decision 0013.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace junction::core {

// The process-wide limits; junctiond sets them from its settings at start and on reload.
struct JsonLimits {
    size_t max_depth = 128;                        // json-max-depth
    size_t max_manifest_bytes = size_t{1} << 20;   // max-manifest-bytes: manifests, describe()
    size_t max_record_bytes = size_t{16} << 20;    // max-record-bytes: one record
    size_t max_page_bytes = size_t{64} << 20;      // max-page-bytes: a page from a plugin
    size_t max_webhook_bytes = size_t{1} << 20;    // max-webhook-bytes: a webhook body
};
JsonLimits json_limits();
void set_json_limits(const JsonLimits& limits);

// Which size cap applies to a text; `any` has only the depth cap.
enum class JsonSize { any, manifest, record, page, webhook };

// Parses `text` or throws Error(invalid_argument) whose message starts with `what` and says
// what was wrong and where, e.g. "the request body nests deeper than 128 levels at /a/0/b
// (json-max-depth)" or "the flow has invalid UTF-8 in the string at /name".
rapidjson::Document parse_json_text(std::string_view text, std::string_view what,
                                    JsonSize size = JsonSize::any);

// `text` as a JSON string literal (quotes included) and `value` as compact JSON: always
// valid UTF-8 (invalid sequences become U+FFFD, control characters are escaped).
std::string json_quote(std::string_view text);
std::string write_json(const rapidjson::Value& value);

}  // namespace junction::core
