// {{settings.NAME}}, {{record.FIELD}} (a send), {{request.since}} and {{page.cursor}}
// (a receive) and {{credentials.FIELD}} (a session login) in URLs, headers and bodies.
#pragma once

#include <junction/sdk/url.hpp>

#include <junction/sdk/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace junction::rest {

// The names inside every {{...}} of `text`, trimmed ("settings.shop_domain").
std::vector<std::string> template_references(std::string_view text);

struct TemplateValues {
    const sdk::Json* settings = nullptr;     // the instance config
    const sdk::Json* record = nullptr;       // the record being sent, if any
    const sdk::Json* credentials = nullptr;  // a session login's fields (the instance config)
    const sdk::Json* request = nullptr;      // a receive's request values: {"since": ...}
    const sdk::Json* page = nullptr;         // a receive's page: {"cursor", "number", "offset", "size"}
};

// A {{request.x}} or {{page.x}} this request has no value for (the first run has no since,
// the first page no cursor). render() throws it; what the template is in is then left out
// (a query parameter, a header), and render_body() makes that value null.
struct Unset : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Escape { none, url_component };

// Fills the placeholders. A value that is missing fails with JN_ERR_INVALID_CONFIG (a
// setting) or JN_ERR_INVALID_REQUEST (a record field) naming it.
std::string render(std::string_view text, const TemplateValues& values, Escape escape = Escape::none);

// A body template: strings are rendered; a string that is exactly one placeholder takes
// the value's JSON type ("{{record}}" is the whole record, "{{record.total}}" a number).
sdk::JsonDocument render_body(const sdk::Json& body, const TemplateValues& values);

// RFC 3986 percent-encoding of everything but unreserved characters: the SDK's.
using sdk::url_encode;

}  // namespace junction::rest
