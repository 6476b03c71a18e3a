#include "templates.hpp"

#include <cctype>

namespace junction::rest {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Follows "a.b.c" through objects; null when a step is missing.
const sdk::Json* lookup(const sdk::Json* root, std::string_view path) {
    const sdk::Json* at = root;
    while (at && !path.empty()) {
        const size_t dot = path.find('.');
        const std::string step(path.substr(0, dot));
        if (!at->IsObject()) return nullptr;
        auto it = at->FindMember(step.c_str());
        at = it == at->MemberEnd() ? nullptr : &it->value;
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    return at;
}

const sdk::Json& resolve(std::string_view name, const TemplateValues& values) {
    const sdk::Json* found = nullptr;
    if (name.rfind("settings.", 0) == 0) {
        found = lookup(values.settings, name.substr(9));
        if (!found || found->IsNull())
            throw sdk::Error(JN_ERR_INVALID_CONFIG,
                             "the setting '" + std::string(name.substr(9)) + "' is not set; set it on the instance");
    } else if (name.rfind("credentials.", 0) == 0 && values.credentials) {
        found = lookup(values.credentials, name.substr(12));
        if (!found || found->IsNull())
            throw sdk::Error(JN_ERR_INVALID_CONFIG, "the credential '" + std::string(name.substr(12)) +
                                                        "' is not set; set it on the instance");
    } else if (name.rfind("request.", 0) == 0 || name.rfind("page.", 0) == 0) {
        const bool request = name[1] == 'e';  // "request." or "page."
        found = lookup(request ? values.request : values.page, name.substr(request ? 8 : 5));
        if (!found || found->IsNull()) throw Unset(std::string(name));
        return *found;
    } else if (name == "record") {
        found = values.record;
    } else if (name.rfind("record.", 0) == 0) {
        found = lookup(values.record, name.substr(7));
    }
    if (!found)
        throw sdk::Error(JN_ERR_INVALID_REQUEST, "the record has no field '" + std::string(name.substr(7)) +
                                                     "', which the manifest's template {{" + std::string(name) + "}} needs");
    return *found;
}

std::string as_text(const sdk::Json& v) {
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
    return sdk::to_json(v);
}

}  // namespace

std::vector<std::string> template_references(std::string_view text) {
    std::vector<std::string> out;
    for (size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at + 2)) {
        const size_t end = text.find("}}", at + 2);
        if (end == std::string_view::npos) break;
        out.emplace_back(trim(text.substr(at + 2, end - at - 2)));
    }
    return out;
}

std::string render(std::string_view text, const TemplateValues& values, Escape escape) {
    std::string out;
    size_t from = 0;
    for (size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", from)) {
        const size_t end = text.find("}}", at + 2);
        if (end == std::string_view::npos) break;
        out.append(text.substr(from, at - from));
        const std::string value = as_text(resolve(trim(text.substr(at + 2, end - at - 2)), values));
        out += escape == Escape::url_component ? url_encode(value) : value;
        from = end + 2;
    }
    out.append(text.substr(from));
    return out;
}

sdk::JsonDocument render_body(const sdk::Json& body, const TemplateValues& values) {
    sdk::JsonDocument out;
    auto& a = out.GetAllocator();
    if (body.IsString()) {
        const std::string_view text(body.GetString(), body.GetStringLength());
        const auto refs = template_references(text);
        const std::string_view t = trim(text);
        try {
            if (refs.size() == 1 && t.substr(0, 2) == "{{" && t.substr(t.size() - 2) == "}}") {
                out.CopyFrom(resolve(refs.front(), values), a);
            } else {
                const std::string s = render(text, values);
                out.SetString(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
            }
        } catch (const Unset&) {
            out.SetNull();  // GraphQL: a variable without a value is null
        }
    } else if (body.IsObject()) {
        out.SetObject();
        for (const auto& m : body.GetObject()) {
            sdk::JsonDocument v = render_body(m.value, values);
            out.AddMember(sdk::Json(m.name, a), sdk::Json(v, a), a);
        }
    } else if (body.IsArray()) {
        out.SetArray();
        for (const auto& item : body.GetArray()) {
            sdk::JsonDocument v = render_body(item, values);
            out.PushBack(sdk::Json(v, a), a);
        }
    } else {
        out.CopyFrom(body, a);
    }
    return out;
}

}  // namespace junction::rest
