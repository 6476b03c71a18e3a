#include <junction/core/flows/spec.hpp>

#include <algorithm>

namespace junction::core::flows {

void Spec::problem(std::string_view why) const {
    problems_.push_back("at " + (path_.empty() ? std::string("/") : path_) + ": " + std::string(why));
}

void Spec::problem(std::string_view member, std::string_view why) const {
    problems_.push_back("at " + at(member) + ": " + std::string(why));
}

const Json* Spec::member(const char* key) const {
    if (!value_.IsObject()) return nullptr;
    auto it = value_.FindMember(key);
    return it == value_.MemberEnd() ? nullptr : &it->value;
}

std::string Spec::string(const char* key, bool required) const {
    const Json* v = member(key);
    if (!v) {
        if (required) problem(key, "is required");
        return {};
    }
    if (!v->IsString()) {
        problem(key, "must be a string");
        return {};
    }
    if (required && v->GetStringLength() == 0) problem(key, "must not be empty");
    return {v->GetString(), v->GetStringLength()};
}

std::optional<int64_t> Spec::integer(const char* key, int64_t min, int64_t max) const {
    const Json* v = member(key);
    if (!v) return std::nullopt;
    if (!v->IsInt64() || v->GetInt64() < min || v->GetInt64() > max) {
        problem(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
        return std::nullopt;
    }
    return v->GetInt64();
}

bool Spec::boolean(const char* key, bool fallback) const {
    const Json* v = member(key);
    if (!v) return fallback;
    if (!v->IsBool()) {
        problem(key, "must be true or false");
        return fallback;
    }
    return v->GetBool();
}

std::optional<Spec> Spec::child(const char* key, bool required, bool object) const {
    const Json* v = member(key);
    if (!v) {
        if (required) problem(key, "is required");
        return std::nullopt;
    }
    if (object && !v->IsObject()) {
        problem(key, "must be an object");
        return std::nullopt;
    }
    return Spec(*v, at(key), problems_);
}

std::vector<Spec> Spec::array(const char* key, bool required) const {
    std::vector<Spec> out;
    const Json* v = member(key);
    if (!v) {
        if (required) problem(key, "is required");
        return out;
    }
    if (!v->IsArray()) {
        problem(key, "must be an array");
        return out;
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) out.emplace_back((*v)[i], at(key) + "/" + std::to_string(i), problems_);
    return out;
}

void Spec::allow_only(std::initializer_list<const char*> keys) const {
    if (!value_.IsObject()) return;
    for (const auto& m : value_.GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return name == k; }))
            problem(name, "is not a known setting here");
    }
}

std::optional<Pointer> Spec::pointer(const char* key, bool required) const {
    const std::string text = string(key, required);
    if (text.empty()) return std::nullopt;
    auto p = parse_pointer(text);
    if (!p) {
        problem(key, "'" + text + "' is not a JSON pointer (write /field or /parent/field)");
        return p;
    }
    // A number in a path is a list position; writing at position N makes a list of N + 1
    // items, so an unbounded one would let one flow definition take the host's memory.
    for (size_t i = 0; i < p->GetTokenCount(); ++i)
        if (const auto index = p->GetTokens()[i].index; index != rapidjson::kPointerInvalidIndex && index > kMaxPathIndex) {
            problem(key, "'" + text + "' names list position " + std::to_string(index) + "; a flow addresses at most the first " +
                             std::to_string(kMaxPathIndex + 1) + " items of a list");
            return std::nullopt;
        }
    return p;
}

std::optional<Pointer> parse_pointer(std::string_view text) {
    std::string s(text);
    if (s.empty() || s.front() != '/') s.insert(s.begin(), '/');
    Pointer p(s.c_str(), s.size());
    if (!p.IsValid()) return std::nullopt;
    return p;
}

}  // namespace junction::core::flows
