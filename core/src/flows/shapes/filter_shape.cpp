// filter: lets through the records that match a condition (see condition.hpp) and drops
// the rest; dropped records are neither failures nor output.
//   {"id": "not-cancelled", "type": "filter", "condition": {"field": "/cancelled_at", "op": "exists", "value": false}}
#include <junction/core/flows/condition.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

class FilterShape final : public Shape {
public:
    FilterShape(const Spec& spec, std::string id, std::unique_ptr<Condition> condition)
        : Shape(std::move(id)), condition_(std::move(condition)), next_(link_from(spec, "next")) {}

protected:
    void process(Batch batch, RunContext& run) override {
        Batch out = batch.sibling();
        for (auto& record : batch.records)
            if (condition_->matches(record)) out.records.push_back(std::move(record));
        forward(next_, std::move(out), run);
    }

private:
    std::unique_ptr<Condition> condition_;
    Link& next_;
};

}  // namespace

void register_filter_shape(ShapeRegistry& registry) {
    registry.add("filter", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "condition", "next"});
        auto c = spec.child("condition", true);
        auto condition = c ? Condition::parse(*c) : nullptr;
        if (!condition) return nullptr;
        return std::make_unique<FilterShape>(spec, id, std::move(condition));
    });
}

}  // namespace junction::core::flows
