#include "fuzz_inputs.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

namespace fuzz {

namespace {

// A handful of names, so creates, reads and deletes meet the same things (and the state
// the run builds stays bounded).
const char* const kNames[] = {"a", "b", "orders", "shop-1", "sink", "copy-a", "x_y", "deleted"};

constexpr const char* kHostileNumbers[] = {"1e400", "-1e400", "2e308", "123456789012345678901234567890",
                                          "-0", "1e-400", "0.000000000000000000000000001", "9007199254740993"};

std::string percent(unsigned char c) {
    static const char* hex = "0123456789ABCDEF";
    return std::string("%") + hex[c >> 4] + hex[c & 15];
}

}  // namespace

std::vector<RouteTemplate> routes_of(const std::string& openapi_json) {
    rapidjson::Document d;
    d.Parse(openapi_json.c_str());
    std::vector<RouteTemplate> out;
    if (d.HasParseError() || !d.HasMember("paths")) return out;
    for (const auto& path : d["paths"].GetObject())
        for (const auto& op : path.value.GetObject()) {
            std::string method = op.name.GetString();
            std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
            out.push_back({method, path.name.GetString()});
        }
    return out;
}

size_t invalid_utf8_at(const std::string& text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
        else return i;
        if (i + len > n) return i;
        for (size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return std::string::npos;
}

InputMaker::InputMaker(std::vector<RouteTemplate> routes, size_t max_body, std::string data_dir, uint64_t seed,
                       size_t max_depth, std::string kinds)
    : routes_(std::move(routes)), max_body_(max_body), data_dir_(std::move(data_dir)),
      max_depth_(max_depth == 0 ? max_body : max_depth), kinds_(std::move(kinds)), rng_(seed) {}

Request InputMaker::next() {
    const RouteTemplate& t = routes_[pick(routes_.size())];
    Request r;
    r.method = t.method;
    r.route = t.method + " " + t.path;
    for (size_t i = 0; i < t.path.size(); ++i) {
        if (t.path[i] != '{') {
            r.target += t.path[i];
            continue;
        }
        i = t.path.find('}', i);
        r.target += path_value();
    }
    if (chance(0.2) && has('q')) r.target += query();
    if (r.method != "GET" && r.method != "DELETE") r.body = body_for(r.route);
    r.authorized = !chance(0.05);
    return r;
}

std::string InputMaker::path_value() {
    if (chance(0.7) || !has('p')) return kNames[pick(std::size(kNames))];
    if (chance(0.3)) return std::to_string(pick(100));
    std::string out;
    const size_t length = 1 + pick(chance(0.1) ? 3000 : 40);
    for (size_t i = 0; i < length; ++i) {
        const unsigned char c = static_cast<unsigned char>(pick(256));
        out += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : percent(c);
    }
    return out;
}

std::string InputMaker::query() {
    static const char* const keys[] = {"limit", "after", "status", "flow", "x"};
    std::string out = "?";
    for (size_t i = 0, n = 1 + pick(3); i < n; ++i) {
        out += std::string(i ? "&" : "") + keys[pick(std::size(keys))] + "=";
        if (chance(0.5)) out += std::to_string(static_cast<long long>(pick(2000)) - 100);
        else
            for (size_t k = 0, m = pick(20); k < m; ++k) out += percent(static_cast<unsigned char>(pick(256)));
    }
    return out;
}

std::string InputMaker::body_for(const std::string& route) {
    const double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (roll < 0.35) return has('v') ? valid_body(route) : "{}";
    if (roll < 0.65) return has('m') ? mutate(valid_body(route)) : "{}";
    if (roll < 0.85) return has('h') ? hostile_body() : "{}";
    return has('r') ? random_json(chance(0.2) ? max_body_ / 2 : 2000) : "{}";
}

std::string InputMaker::valid_body(const std::string& route) {
    const std::string name = kNames[pick(std::size(kNames))];
    const std::string other = kNames[pick(std::size(kNames))];
    if (route == "POST /v1/instances")
        return R"({"connector":"jsonl","name":")" + name + R"(","config":{"path":")" + data_dir_ + "/" + name +
               R"(.jsonl"}})";
    if (route == "PATCH /v1/instances/{name}") return R"({"config":{"path":")" + data_dir_ + "/" + other + R"(.jsonl"}})";
    if (route == "POST /v1/flows")
        return R"({"name":")" + name + R"(","trigger":{"type":"manual"},"shapes":[)"
               R"({"id":"read","type":"connection","instance":")" + other +
               R"(","endpoint":"records.receive","direction":"receive","next":"keep"},)"
               R"({"id":"keep","type":"filter","condition":{"field":"/id","op":"regex","value":"^[0-9]+$"},"next":"map"},)"
               R"({"id":"map","type":"map","next":"write","fields":[{"target":"/n","source":"/id","transforms":[{"op":"to_number"}]}]},)"
               R"({"id":"write","type":"connection","instance":")" + name +
               R"(","endpoint":"records.send","direction":"send"}]})";
    if (route == "POST /v1/flows/{name}/runs" || route == "POST /hooks/{flow}/{token}")
        return R"({"payload":[{"id":"1","amount":12.5},{"id":"2","note":"\u00e9t\u00e9"}]})";
    if (route == "PUT /v1/connectors/{name}/policy") return R"({"policy":"manual"})";
    if (route == "POST /v1/connectors/{name}/apply") return R"({"version":"1.0.0"})";
    if (route == "POST /v1/connectors") return R"({"file":")" + data_dir_ + R"(/missing.so"})";
    if (route == "POST /v1/marketplace/install") return R"({"name":"jsonl","version":"1.0.0"})";
    if (route == "POST /v1/marketplace/apply") return R"({"name":"jsonl"})";
    return "{}";
}

std::string InputMaker::mutate(std::string text) {
    for (size_t i = 0, n = 1 + pick(8); i < n && !text.empty(); ++i) {
        const size_t at = pick(text.size());
        switch (pick(7)) {
            case 0: text[at] = static_cast<char>(pick(256)); break;                         // any byte
            case 1: text.erase(at, 1 + pick(std::min<size_t>(20, text.size() - at))); break;  // cut
            case 2: text.insert(at, text.substr(at, pick(std::min<size_t>(200, text.size() - at)))); break;
            case 3: text.insert(at, kHostileNumbers[pick(std::size(kHostileNumbers))]); break;
            case 4: text.insert(at, "\xEF\xBB\xBF"); break;  // a byte-order mark
            case 5: text.insert(at, R"("name":"dup",)"); break;  // a duplicate key, maybe
            default: text.insert(at, "\xC3\x28\xED\xA0\x80\xF8"); break;  // invalid UTF-8
        }
    }
    if (chance(0.05)) text = "\xEF\xBB\xBF" + text;
    return text;
}

// Large and nasty, up to the body limit and, now and then, a little over it.
std::string InputMaker::hostile_body() {
    const size_t limit = chance(0.05) ? max_body_ + 1 + pick(1000) : max_body_;
    const size_t size = std::min(limit, static_cast<size_t>(1) << (6 + pick(15)));
    switch (pick(8)) {
        case 0: return std::string(std::min(size, max_depth_), '[');           // deep arrays, unterminated
        case 1: {                                                                // deep objects, closed
            const size_t depth = std::min(size / 6, max_depth_);
            std::string out;
            for (size_t i = 0; i < depth; ++i) out += R"({"":)";
            out += "1";
            out += std::string(depth, '}');
            return out;
        }
        case 2: return R"({"name":")" + std::string(size, 'x') + R"("})";     // a long string
        case 3: {                                                                // many keys
            std::string out = "{";
            for (size_t i = 0; out.size() < size; ++i) out += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
            return out + "}";
        }
        case 4: return R"({"name":")" + random_string(size) + R"("})";         // bytes of every kind
        case 5: return R"({"payload":[)" + std::string(kHostileNumbers[pick(std::size(kHostileNumbers))]) + "," +
                       std::string(size, '9') + "]}";                           // huge numbers
        case 6: {                                                                // many small records
            std::string out = R"({"payload":[)";
            for (size_t i = 0; out.size() < size; ++i) out += (i ? ",{\"id\":\"" : "{\"id\":\"") + std::to_string(i) + "\"}";
            return out + "]}";
        }
        default: return random_json(size);
    }
}

// Any JSON value (built with an explicit stack: no recursion), mostly valid.
std::string InputMaker::random_json(size_t budget) {
    std::string out;
    std::vector<char> open;  // '[' or '{'
    std::vector<bool> first;
    while (out.size() < budget) {
        const bool in_object = !open.empty() && open.back() == '{';
        const bool may_open = open.size() < max_depth_;
        if (!open.empty() && chance(0.25)) {
            out += open.back() == '[' ? ']' : '}';
            open.pop_back();
            first.pop_back();
            if (open.empty()) break;
            continue;
        }
        if (!open.empty()) {
            if (!first.back()) out += ',';
            first.back() = false;
            if (in_object) out += "\"" + random_string(pick(12)) + "\":";
        }
        switch (pick(7)) {
            case 0:
                if (may_open) open.push_back('['), first.push_back(true), out += '[';
                else out += "0";
                break;
            case 1:
                if (may_open) open.push_back('{'), first.push_back(true), out += '{';
                else out += "1";
                break;
            case 2: out += std::to_string(static_cast<long long>(rng_())); break;
            case 3: out += kHostileNumbers[pick(std::size(kHostileNumbers))]; break;
            case 4: out += chance(0.5) ? "true" : "null"; break;
            default: out += "\"" + random_string(pick(chance(0.1) ? 5000 : 30)) + "\""; break;
        }
        if (open.empty()) break;
    }
    while (!open.empty()) {
        out += open.back() == '[' ? ']' : '}';
        open.pop_back();
    }
    return out;
}

// Printable text, escapes, non-ASCII UTF-8 and, now and then, a byte that is not UTF-8.
std::string InputMaker::random_string(size_t length) {
    std::string out;
    while (out.size() < length) {
        switch (pick(10)) {
            case 0: out += "\\u00e9"; break;
            case 1: out += "\xE2\x82\xAC"; break;  // the euro sign
            case 2: out += chance(0.3) ? "\\ud800" : "\\n"; break;
            case 3: out += static_cast<char>(0x80 + pick(128)); break;
            default: out += static_cast<char>('a' + pick(26)); break;
        }
    }
    return out;
}

}  // namespace fuzz
