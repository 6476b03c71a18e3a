// dedupe: drops records whose key was seen before, in this run ("scope": "run") or in any
// run of the flow ("scope": "flow"). Keys are kept in the store and made final with each
// checkpoint, so a record delivered before a crash is still known after it, and one that
// was not is not wrongly dropped.
//   {"id": "once", "type": "dedupe", "key": "/id", "scope": "flow", "next": "send"}
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

std::string key_text(const Json& v) { return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : to_json(v); }

class DedupeShape final : public Shape {
public:
    DedupeShape(const Spec& spec, std::string id) : Shape(std::move(id)), next_(link_from(spec, "next")) {
        if (spec.member("key")) {
            if (auto p = spec.pointer("key", true)) keys_.push_back(std::move(*p));
        } else {
            for (const auto& k : spec.array("keys", false)) {
                auto p = k.json().IsString() ? parse_pointer(k.json().GetString()) : std::nullopt;
                if (!p) k.problem("must be a JSON pointer such as /id");
                else keys_.push_back(std::move(*p));
            }
            if (keys_.empty()) spec.problem("key", "is required: the JSON pointer (or \"keys\": several) that identifies a record");
        }
        scope_kind_ = spec.string("scope");
        if (scope_kind_.empty()) scope_kind_ = "run";
        if (scope_kind_ != "run" && scope_kind_ != "flow") spec.problem("scope", "must be run or flow");
    }

protected:
    void process(Batch batch, RunContext& run) override {
        const std::string scope = scope_kind_ == "flow" ? "flow:" + run.run().flow_id + ":" + id()
                                                        : "run:" + run.run().id + ":" + id();
        Batch out = batch.sibling();
        for (auto& record : batch.records) {
            std::string key;
            bool complete = true;
            for (size_t i = 0; i < keys_.size(); ++i) {
                const Json* v = keys_[i].Get(record);
                if (!v || v->IsNull()) complete = false;
                else key += (i ? "\x1f" : "") + key_text(*v);
            }
            if (!complete) {
                run.fail(id(), record, "the record has no value for its de-dupe key");
                continue;
            }
            if (!run.seen_before(scope, key)) out.records.push_back(std::move(record));
        }
        forward(next_, std::move(out), run);
    }

private:
    std::vector<Pointer> keys_;
    std::string scope_kind_;
    Link& next_;
};

}  // namespace

void register_dedupe_shape(ShapeRegistry& registry) {
    registry.add("dedupe", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "key", "keys", "scope", "next"});
        return std::make_unique<DedupeShape>(spec, id);
    });
}

}  // namespace junction::core::flows
