#include <junction/core/flows/condition.hpp>

#include <junction/core/flows/time_values.hpp>

#include "flow_regex.hpp"

namespace junction::core::flows {

namespace {

// Three-way order of two values, nullopt when they do not compare (a number and a string).
std::optional<int> order(const Json& a, const Json& b) {
    if (a.IsNumber() && b.IsNumber()) {
        const double x = a.GetDouble(), y = b.GetDouble();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.IsString() && b.IsString())
        return compare_cursor({a.GetString(), a.GetStringLength()}, {b.GetString(), b.GetStringLength()});
    return std::nullopt;
}

bool equal(const Json& a, const Json& b) {
    if (a.IsNumber() && b.IsNumber()) return a.GetDouble() == b.GetDouble();
    return a == b;
}

class Compare final : public Condition {
public:
    enum class Op { eq, ne, lt, le, gt, ge, in, exists, regex };

    Compare(Pointer field, Op op, Json value, std::unique_ptr<const RE2> re)
        : field_(std::move(field)), op_(op), value_(std::move(value), value_doc_.GetAllocator()),
          regex_(std::move(re)) {}

    bool matches(const Json& record) const override {
        const Json* v = field_.Get(record);
        switch (op_) {
            case Op::exists: return (v && !v->IsNull()) == value_.GetBool();
            case Op::ne: return !v || !equal(*v, value_);
            default: break;
        }
        if (!v) return false;
        switch (op_) {
            case Op::eq: return equal(*v, value_);
            case Op::in:
                for (const auto& candidate : value_.GetArray())
                    if (equal(*v, candidate)) return true;
                return false;
            case Op::regex:
                // Search, like std::regex_search before: anchor with ^ and $ to match the whole value.
                return v->IsString() &&
                       RE2::PartialMatch(re2::StringPiece(v->GetString(), v->GetStringLength()), *regex_);
            default: {
                const auto o = order(*v, value_);
                if (!o) return false;
                if (op_ == Op::lt) return *o < 0;
                if (op_ == Op::le) return *o <= 0;
                if (op_ == Op::gt) return *o > 0;
                return *o >= 0;
            }
        }
    }

private:
    Pointer field_;
    Op op_;
    rapidjson::Document value_doc_;  // owns value_'s memory
    Json value_;
    std::unique_ptr<const RE2> regex_;
};

class AllOf final : public Condition {
public:
    AllOf(std::vector<std::unique_ptr<Condition>> parts, bool any) : parts_(std::move(parts)), any_(any) {}
    bool matches(const Json& record) const override {
        for (const auto& p : parts_)
            if (p->matches(record) == any_) return any_;
        return !any_;
    }

private:
    std::vector<std::unique_ptr<Condition>> parts_;
    bool any_;  // "or": the first match decides; "and": the first miss does
};

class Not final : public Condition {
public:
    explicit Not(std::unique_ptr<Condition> inner) : inner_(std::move(inner)) {}
    bool matches(const Json& record) const override { return !inner_->matches(record); }

private:
    std::unique_ptr<Condition> inner_;
};

std::optional<Compare::Op> op_named(std::string_view name) {
    static const std::pair<std::string_view, Compare::Op> ops[] = {
        {"eq", Compare::Op::eq}, {"ne", Compare::Op::ne}, {"lt", Compare::Op::lt},
        {"le", Compare::Op::le}, {"gt", Compare::Op::gt}, {"ge", Compare::Op::ge},
        {"in", Compare::Op::in}, {"exists", Compare::Op::exists}, {"regex", Compare::Op::regex}};
    for (const auto& [n, op] : ops)
        if (n == name) return op;
    return std::nullopt;
}

}  // namespace

std::unique_ptr<Condition> Condition::parse(const Spec& spec) {
    if (!spec.json().IsObject()) {
        spec.problem("a condition must be an object: {\"field\", \"op\", \"value\"} or {\"and\"|\"or\": [...]} or {\"not\": {...}}");
        return nullptr;
    }
    for (const char* group : {"and", "or"}) {
        if (!spec.member(group)) continue;
        spec.allow_only({group});
        std::vector<std::unique_ptr<Condition>> parts;
        bool ok = true;
        for (const auto& part : spec.array(group, true)) {
            auto c = parse(part);
            ok = ok && c;
            parts.push_back(std::move(c));
        }
        if (parts.empty()) spec.problem(group, "needs at least one condition");
        if (!ok || parts.empty()) return nullptr;
        return std::make_unique<AllOf>(std::move(parts), std::string_view(group) == "or");
    }
    if (auto inner = spec.child("not", false)) {
        spec.allow_only({"not"});
        auto c = parse(*inner);
        return c ? std::make_unique<Not>(std::move(c)) : nullptr;
    }
    spec.allow_only({"field", "op", "value"});
    const auto field = spec.pointer("field", true);
    const std::string op_name = spec.string("op", true);
    const auto op = op_named(op_name);
    if (!op_name.empty() && !op) spec.problem("op", "'" + op_name + "' is not one of eq, ne, lt, le, gt, ge, in, exists, regex");
    const Json* value = spec.member("value");
    std::unique_ptr<const RE2> re;
    Json copy;
    rapidjson::Document scratch;
    if (op) {
        if (*op == Compare::Op::exists) {
            if (value && !value->IsBool()) spec.problem("value", "must be true or false for exists");
            copy.SetBool(!value || value->IsBool() ? (!value || value->GetBool()) : true);
        } else if (!value) {
            spec.problem("value", "is required for " + op_name);
        } else if (*op == Compare::Op::in && !value->IsArray()) {
            spec.problem("value", "must be an array for in");
        } else if (*op == Compare::Op::regex) {
            re = flow_regex(spec, "value");
        }
        if (value && *op != Compare::Op::exists) copy.CopyFrom(*value, scratch.GetAllocator());
    }
    if (!field || !op || (*op != Compare::Op::exists && !value) || (*op == Compare::Op::in && !value->IsArray()) ||
        (*op == Compare::Op::regex && !re))
        return nullptr;
    return std::make_unique<Compare>(*field, *op, Json(copy, scratch.GetAllocator()), std::move(re));
}

}  // namespace junction::core::flows
