#include "map_values.hpp"

#include <charconv>
#include <cmath>

namespace junction::core::flows {

std::string text_of(const Json& v) {
    if (v.IsString()) return {v.GetString(), v.GetStringLength()};
    if (v.IsNull()) return {};
    if (v.IsBool()) return v.GetBool() ? "true" : "false";
    if (v.IsInt64()) return std::to_string(v.GetInt64());
    if (v.IsUint64()) return std::to_string(v.GetUint64());
    if (v.IsDouble()) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
        return ec == std::errc() ? std::string(buf, end) : std::to_string(v.GetDouble());
    }
    return to_json(v);
}

double number_in(const Json* v, const std::string& op) {
    if (!v || v->IsNull()) throw MapError(op + ": there is no value to compute with");
    if (v->IsNumber()) return v->GetDouble();
    if (v->IsString()) {
        const std::string t(v->GetString(), v->GetStringLength());
        double n = 0;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
        if (ec == std::errc() && end == t.data() + t.size() && !t.empty()) return n;
        throw MapError(op + ": '" + t.substr(0, 60) + "' is not a number");
    }
    throw MapError(op + ": a " + std::string(v->IsObject() ? "object" : v->IsArray() ? "list" : "boolean") +
                   " is not a number");
}

double number_of(const Slot& s, const std::string& op) { return number_in(s.present ? &s.value : nullptr, op); }

bool absent(const Slot& s) { return !s.present || s.value.IsNull(); }

std::string text_or_fail(const Slot& s, const std::string& op) {
    if (absent(s)) throw MapError(op + ": there is no value");
    if (s.value.IsObject() || s.value.IsArray()) throw MapError(op + ": the value is not text");
    return text_of(s.value);
}

void set_number(Slot& s, double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15)
        s.value.SetInt64(static_cast<int64_t>(v));
    else
        s.value.SetDouble(v);
    s.present = true;
}

void set_text(Slot& s, std::string_view t, Allocator& a) {
    s.value.SetString(t.data(), static_cast<rapidjson::SizeType>(t.size()), a);
    s.present = true;
}

std::shared_ptr<rapidjson::Document> keep(const Json& v) {
    auto d = std::make_shared<rapidjson::Document>();
    d->CopyFrom(v, d->GetAllocator());
    return d;
}

}  // namespace junction::core::flows
