#include "response_rules.hpp"

#include <rapidjson/pointer.h>
#include <strings.h>

#include <charconv>
#include <optional>

namespace junction::rest {

namespace {

// The answer's body, parsed at most once, and only when a rule needs it.
class LazyBody {
public:
    explicit LazyBody(const std::string& text) : text_(text) {}

    // Whether the body may hold `pointer`: its first key occurs in the text, quoted.
    bool may_hold(const std::string& pointer) const {
        const size_t end = pointer.find('/', 1);
        std::string key = pointer.substr(1, end == std::string::npos ? end : end - 1);
        for (size_t at; (at = key.find("~1")) != std::string::npos;) key.replace(at, 2, "/");  // RFC 6901
        for (size_t at; (at = key.find("~0")) != std::string::npos;) key.replace(at, 2, "~");
        return text_.find("\"" + key + "\"") != std::string::npos;
    }
    const sdk::Json* at(const std::string& pointer) {
        if (!parsed_) {
            parsed_ = true;
            try {
                doc_ = sdk::parse_json(text_, "the answer");
            } catch (const sdk::Error&) {  // not JSON: no value is there
            }
        }
        const rapidjson::Pointer p(pointer.c_str());
        return p.IsValid() && !doc_.IsNull() ? p.Get(doc_) : nullptr;
    }

private:
    const std::string& text_;
    bool parsed_ = false;
    sdk::JsonDocument doc_;
};

std::optional<std::string> header_of(const sdk::HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return std::nullopt;
}

bool passes(const AnswerTest& t, const sdk::HttpResponse& r, LazyBody& body) {
    if (t.status != 0 && t.status != r.status) return false;
    if (!t.header.empty()) {
        const auto v = header_of(r, t.header);
        if (t.equals) return v && t.equals->IsString() && *v == t.equals->GetString();
        return v.has_value() == t.exists;
    }
    if (t.pointer.empty()) return true;
    const sdk::Json* v = body.may_hold(t.pointer) ? body.at(t.pointer) : nullptr;
    if (t.equals) return v && *v == *t.equals;
    return (v && !v->IsNull()) == t.exists;
}

std::string text_at(LazyBody& body, const std::string& pointer) {
    const sdk::Json* v = pointer.empty() ? nullptr : body.at(pointer);
    if (!v) return {};
    std::string text = v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : sdk::to_json(*v);
    if (text.size() > 65536) text.resize(65536);  // bounded; cut to its shown length after the scrub
    return text;
}

}  // namespace

RuleVerdict judge_answer(const std::vector<ResponseRule>& rules, const sdk::HttpResponse& response) {
    LazyBody body(response.body);
    for (const auto& rule : rules) {
        bool all = true;
        for (const auto& t : rule.when) all = all && passes(t, response, body);
        if (!all) continue;
        RuleVerdict v{&rule, text_at(body, rule.message), -1};
        std::optional<std::string> wait;
        if (!rule.wait_ms.header.empty()) wait = header_of(response, rule.wait_ms.header);
        else if (!rule.wait_ms.pointer.empty()) wait = text_at(body, rule.wait_ms.pointer);
        int64_t ms = 0;
        if (wait && std::from_chars(wait->data(), wait->data() + wait->size(), ms).ec == std::errc() && ms >= 0)
            v.wait_ms = ms;
        return v;
    }
    return {};
}

}  // namespace junction::rest
