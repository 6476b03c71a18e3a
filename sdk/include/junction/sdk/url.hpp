// URLs for connector authors: RFC 3986 percent-encoding and a builder that encodes every
// path segment and query value it is given, so no value from a config or a record can
// change a request's path or add a parameter.
//
//   const std::string url = sdk::Url(base_url).path("api").path("tickets").path(id)
//                               .query("page", std::to_string(page)).query("q", search).str();
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::sdk {

// Every byte but the unreserved characters (A-Z a-z 0-9 - _ . ~) as %XX: safe in a path
// segment, a query name or value, and a form field.
inline std::string url_encode(std::string_view text) {
    const char* const hex = "0123456789ABCDEF";  // a literal, not a static: no GNU-unique symbol
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

// name=value&... with both encoded (a query string, or an application/x-www-form-urlencoded body).
inline std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out.push_back('&');
        out += url_encode(name);
        out.push_back('=');
        out += url_encode(value);
    }
    return out;
}

class Url {
public:
    // `base`: scheme, host and any path prefix, used as given ("https://x.example/api/v2").
    explicit Url(std::string base) : url_(std::move(base)) {
        while (!url_.empty() && url_.back() == '/') url_.pop_back();
    }
    // Appends "/" and `segment`, encoded ("a/b" stays one segment: a%2Fb; "." and "..",
    // which an HTTP client would resolve to another path, become %2E and %2E%2E).
    Url& path(std::string_view segment) {
        url_.push_back('/');
        if (segment == "." || segment == "..") url_ += segment.size() == 1 ? "%2E" : "%2E%2E";
        else url_ += url_encode(segment);
        return *this;
    }
    // Appends a query parameter, name and value encoded.
    Url& query(std::string_view name, std::string_view value) {
        query_.emplace_back(std::string(name), std::string(value));
        return *this;
    }
    std::string str() const { return query_.empty() ? url_ : url_ + "?" + form_encode(query_); }

private:
    std::string url_;
    std::vector<std::pair<std::string, std::string>> query_;
};

}  // namespace junction::sdk
