#include "sim_api.hpp"

#include <cctype>
#include <ctime>

namespace junction::sim {

std::string url_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i] == '+' ? ' ' : s[i]);
        }
    }
    return out;
}

std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_form(std::string_view body) {
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        const size_t amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        const size_t eq = pair.find('=');
        out[url_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    }
    return out;
}

Request parse_request(const RecordedRequest& raw) {
    Request r;
    r.raw = &raw;
    r.method = raw.method;
    const size_t q = raw.target.find('?');
    r.path = raw.target.substr(0, q);
    if (q != std::string::npos) r.query = parse_form(std::string_view(raw.target).substr(q + 1));
    return r;
}

std::string Request::header(const std::string& lower_name) const {
    auto it = raw->headers.find(lower_name);
    return it == raw->headers.end() ? "" : it->second;
}

std::string Request::param(const std::string& name, std::string fallback) const {
    auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

CannedResponse json_response(int status, std::string body) {
    return {status, {{"Content-Type", "application/json"}}, std::move(body)};
}

std::string iso_utc(time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    return buf;
}

time_t parse_iso_utc(const std::string& s) {
    std::tm tm{};
    if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
    return timegm(&tm);
}

}  // namespace junction::sim
