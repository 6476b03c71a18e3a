// try: records that fail any shape on the path starting at "next" (a map error, a
// rejected send) go to the "catch" path instead of the run's failed records, with
// "_error": {"shape", "reason"} added (a record that is not an object arrives as
// {"record": ..., "_error": ...}); the run goes on.
//   {"id": "guard", "type": "try", "next": "to-sales-order", "catch": "log-failure"}
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

class TryShape final : public Shape {
public:
    TryShape(const Spec& spec, std::string id)
        : Shape(std::move(id)), next_(link_from(spec, "next", false)), catch_(link_from(spec, "catch", false)) {}

    bool takes_trigger() const override { return true; }

protected:
    void process(Batch batch, RunContext& run) override {
        Batch caught;
        run.push_catch(&caught);
        try {
            forward(next_, std::move(batch), run);
        } catch (...) {
            run.pop_catch();
            throw;
        }
        run.pop_catch();
        forward(catch_, std::move(caught), run);
    }

private:
    Link& next_;
    Link& catch_;
};

}  // namespace

void register_try_shape(ShapeRegistry& registry) {
    registry.add("try", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "next", "catch"});
        return std::make_unique<TryShape>(spec, id);
    });
}

}  // namespace junction::core::flows
