#include <junction/core/flows/field_mapping.hpp>

#include <junction/core/flows/time_values.hpp>

#include "map_text.hpp"
#include "map_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <unordered_map>

namespace junction::core::flows {

namespace {

// A value given as {"source": "/ptr"}, {"constant": v}, or a bare constant.
struct Operand {
    std::optional<Pointer> source;
    std::shared_ptr<rapidjson::Document> constant;
    const Json* get(const Json& record) const { return source ? source->Get(record) : constant.get(); }
};

std::optional<Operand> operand(const Spec& s) {
    if (s.json().IsObject() && s.member("source")) {
        s.allow_only({"source"});
        auto p = s.pointer("source", true);
        if (!p) return std::nullopt;
        return Operand{std::move(p), nullptr};
    }
    if (s.json().IsObject() && s.member("constant")) {
        s.allow_only({"constant"});
        return Operand{std::nullopt, keep(*s.member("constant"))};
    }
    return Operand{std::nullopt, keep(s.json())};
}

std::optional<Transform> arithmetic(const Spec& t, const std::string& op) {
    t.allow_only({"op", "value", "source"});
    Operand by;
    if (t.member("source")) {
        by.source = t.pointer("source", true);
        if (!by.source) return std::nullopt;
    } else if (const Json* v = t.member("value"); v && v->IsNumber()) {
        by.constant = keep(*v);
    } else {
        t.problem("value", "must be a number (or give \"source\": a pointer to one)");
        return std::nullopt;
    }
    return [op, by](Slot& s, const Json& record, Allocator&) {
        const double x = number_of(s, op), y = number_in(by.get(record), op);
        if (op == "add") return set_number(s, x + y);
        if (op == "subtract") return set_number(s, x - y);
        if (op == "multiply") return set_number(s, x * y);
        if (y == 0) throw MapError("divide: division by zero");
        set_number(s, x / y);
    };
}

// Parses a date (ISO 8601, a format, epoch seconds or ms) and writes it in a format, in a
// time zone or in the offset the text itself states (keep_offset).
std::optional<Transform> date(const Spec& t) {
    t.allow_only({"op", "from", "from_time_zone", "to", "time_zone", "keep_offset"});
    const std::string from = t.string("from"), to = t.string("to");
    std::string from_zone = t.string("from_time_zone"), zone = t.string("time_zone");
    const bool keep_offset = t.boolean("keep_offset", false);
    if (keep_offset && !zone.empty()) {
        t.problem("time_zone", "and keep_offset exclude each other: keep_offset writes the date in the offset it had");
        return std::nullopt;
    }
    if (from_zone.empty()) from_zone = "UTC";
    if (zone.empty()) zone = "UTC";
    bool ok = true;
    for (auto [key, name] : {std::pair{"from_time_zone", from_zone}, std::pair{"time_zone", zone}}) {
        if (!known_time_zone(name)) {
            t.problem(key, "'" + name + "' is not a time zone of the tz database (e.g. UTC, Europe/London)");
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    const std::string out_format = to.empty() ? "%Y-%m-%dT%H:%M:%S%Ez" : to;
    const bool reads_offset = from.empty() || from.find("%z") != std::string::npos || from.find("%Ez") != std::string::npos;
    return [=](Slot& s, const Json&, Allocator& a) {
        if (absent(s)) return;  // no date: nothing to convert
        std::optional<int64_t> ms;
        std::optional<int> offset;
        if (s.value.IsNumber() && from == "epoch_ms") ms = s.value.GetInt64();
        else if (s.value.IsNumber() && from == "epoch_s") ms = s.value.GetInt64() * 1000;
        else if (s.value.IsString()) {
            ms = parse_instant(s.value.GetString(), from, from_zone);
            if (keep_offset && reads_offset)  // a format without one cannot have stated one
                offset = stated_offset({s.value.GetString(), s.value.GetStringLength()});
        }
        if (!ms) throw MapError("date: '" + text_of(s.value).substr(0, 60) + "' is not a date" +
                                (from.empty() ? std::string(" (ISO 8601 expected)") : " in the format " + from));
        if (out_format == "epoch_ms") return set_number(s, static_cast<double>(*ms));
        if (offset) return set_text(s, format_instant_at_offset(*ms, out_format, *offset), a);
        // Text without an offset (or a number) was in from_time_zone, and is written there.
        set_text(s, format_instant(*ms, out_format, keep_offset ? from_zone : zone), a);
    };
}

std::optional<Transform> transform(const Spec& t) {
    if (!t.json().IsObject()) {
        t.problem("a transform must be an object with \"op\"");
        return std::nullopt;
    }
    const std::string op = t.string("op", true);
    if (op == "to_number") {
        t.allow_only({"op"});
        return [](Slot& s, const Json&, Allocator&) { if (s.present && !s.value.IsNull()) set_number(s, number_of(s, "to_number")); };
    }
    if (op == "to_string") {
        t.allow_only({"op"});
        return [](Slot& s, const Json&, Allocator& a) {
            if (s.present && !s.value.IsNull() && !s.value.IsString()) set_text(s, text_of(s.value), a);
        };
    }
    if (op == "concat") {
        t.allow_only({"op", "with", "separator"});
        const std::string separator = t.string("separator");
        std::vector<Operand> parts;
        for (const auto& part : t.array("with", true))
            if (auto o = operand(part)) parts.push_back(std::move(*o));
        return [parts, separator](Slot& s, const Json& record, Allocator& a) {
            std::string v = s.present && !s.value.IsNull() ? text_or_fail(s, "concat") : "";
            for (const auto& p : parts) {
                const Json* x = p.get(record);
                if (!x || x->IsNull()) continue;
                if (!v.empty()) v += separator;
                v += text_of(*x);
            }
            set_text(s, v, a);
        };
    }
    if (op == "default") {
        t.allow_only({"op", "value"});
        const Json* v = t.member("value");
        if (!v) {
            t.problem("value", "is required");
            return std::nullopt;
        }
        auto fallback = keep(*v);
        return [fallback](Slot& s, const Json&, Allocator& a) {
            if (s.present && !s.value.IsNull()) return;
            s.value.CopyFrom(*fallback, a);
            s.present = true;
        };
    }
    if (op == "lookup") {
        t.allow_only({"op", "table", "default"});
        auto table = t.child("table", true);
        if (!table) return std::nullopt;
        auto entries = keep(table->json());
        std::shared_ptr<rapidjson::Document> fallback = t.member("default") ? keep(*t.member("default")) : nullptr;
        return [entries, fallback](Slot& s, const Json&, Allocator& a) {
            const std::string key = s.present ? text_of(s.value) : "";
            auto it = entries->FindMember(key.c_str());
            if (it != entries->MemberEnd()) {
                s.value.CopyFrom(it->value, a);
            } else if (fallback) {
                s.value.CopyFrom(*fallback, a);
            } else {
                throw MapError("lookup: no entry for '" + key.substr(0, 60) + "' and no default");
            }
            s.present = true;
        };
    }
    if (op == "add" || op == "subtract" || op == "multiply" || op == "divide") return arithmetic(t, op);
    if (op == "round") {
        t.allow_only({"op", "digits"});
        const int64_t digits = t.integer("digits", 0, 10).value_or(0);
        return [digits](Slot& s, const Json&, Allocator&) {
            if (!s.present || s.value.IsNull()) return;
            const double scale = std::pow(10.0, static_cast<double>(digits));
            set_number(s, std::round(number_of(s, "round") * scale) / scale);
        };
    }
    if (op == "date") return date(t);
    const auto& text_ops = text_transform_ops();
    if (std::find(text_ops.begin(), text_ops.end(), op) != text_ops.end()) return text_transform(t, op);
    if (!op.empty()) {
        std::string known = "to_number, to_string, concat, default, lookup, add, subtract, multiply, divide, round, date";
        for (const auto& o : text_ops) known += ", " + o;
        t.problem("op", "'" + op + "' is not a transform (" + known + ")");
    }
    return std::nullopt;
}

}  // namespace

std::optional<FieldMapping> FieldMapping::parse(const Spec& spec) {
    if (!spec.json().IsObject()) {
        spec.problem("a field must be an object with \"target\" and \"source\" or \"constant\"");
        return std::nullopt;
    }
    spec.allow_only({"target", "source", "constant", "transforms", "each", "required"});
    FieldMapping f;
    const size_t problems_before = spec.problems().size();
    // "" is the whole record (RFC 6901): a source of "" maps the record itself, a target of
    // "" merges an object into the output's top level.
    auto whole = [&](const char* key) {
        const Json* v = spec.member(key);
        return v && v->IsString() && v->GetStringLength() == 0;
    };
    f.target_is_record_ = whole("target");
    if (f.target_is_record_) f.target_text_ = "the record's top level (target \"\")";
    else {
        f.target_text_ = spec.string("target", true);
        if (auto p = spec.pointer("target", true)) f.target_ = std::move(*p);
    }
    if (spec.member("source") && spec.member("constant")) spec.problem("give either source or constant, not both");
    if (whole("source")) f.source_ = Pointer();
    else if (spec.member("source")) f.source_ = spec.pointer("source", true);
    else if (const Json* c = spec.member("constant")) f.constant_ = keep(*c);
    f.required_ = spec.boolean("required", false);
    for (const auto& t : spec.array("transforms", false))
        if (auto fn = transform(t)) f.transforms_.push_back(std::move(*fn));
    if (spec.member("each")) {
        if (!f.source_) spec.problem("each", "maps the elements of a list: give \"source\", the list");
        for (const auto& e : spec.array("each", true))
            if (auto m = parse(e)) f.each_.push_back(std::move(*m));
    }
    if (spec.problems().size() != problems_before) return std::nullopt;
    return f;
}

void FieldMapping::apply(const Json& record, Json& out, Allocator& a) const {
    Slot slot;
    if (constant_) {
        slot.value.CopyFrom(*constant_, a);
        slot.present = true;
    } else if (const Json* v = source_ ? source_->Get(record) : nullptr) {
        if (!each_.empty()) {
            if (!v->IsArray()) throw MapError(target_text_ + ": the source is not a list");
            slot.value.SetArray();
            for (const auto& element : v->GetArray()) {
                Json mapped(rapidjson::kObjectType);
                for (const auto& field : each_) field.apply(element, mapped, a);
                slot.value.PushBack(mapped, a);
            }
        } else {
            slot.value.CopyFrom(*v, a);
        }
        slot.present = true;
    }
    try {
        for (const auto& t : transforms_) t(slot, record, a);
    } catch (const MapError& e) {
        throw MapError(target_text_ + ": " + e.what());
    }
    if (!slot.present) {
        if (required_) throw MapError(target_text_ + ": the record has no value for it");
        return;
    }
    if (!target_is_record_) {
        target_.Set(out, slot.value, a);
        return;
    }
    if (!slot.value.IsObject())
        throw MapError(target_text_ + ": only an object can be merged into the record, not '" +
                       text_of(slot.value).substr(0, 60) + "'");
    if (!out.IsObject()) out.SetObject();
    // By name through a hash index: a record of a million keys must not cost a million
    // lookups of a million members each.
    // Names are copied: a short one lives inside its member, which moves as members are added.
    std::unordered_map<std::string, rapidjson::SizeType> index;
    index.reserve(out.MemberCount() + slot.value.MemberCount());
    auto name_of = [](const Json& name) { return std::string(name.GetString(), name.GetStringLength()); };
    for (auto it = out.MemberBegin(); it != out.MemberEnd(); ++it)
        index.emplace(name_of(it->name), static_cast<rapidjson::SizeType>(it - out.MemberBegin()));
    for (auto& member : slot.value.GetObject()) {
        auto [found, added] = index.try_emplace(name_of(member.name), out.MemberCount());
        if (!added) (out.MemberBegin() + found->second)->value = std::move(member.value);
        else out.AddMember(member.name, member.value, a);
    }
}

}  // namespace junction::core::flows
