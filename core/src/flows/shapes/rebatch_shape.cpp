// rebatch: regroups records into batches of exactly `size` (the last one smaller), e.g.
// to send 500 at a time whatever the page size of the source. While it holds records no
// checkpoint is taken, so a crash never skips the records it held.
//   {"id": "by-500", "type": "rebatch", "size": 500, "next": "send"}
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

class RebatchShape final : public Shape {
public:
    RebatchShape(const Spec& spec, std::string id)
        : Shape(std::move(id)), size_(static_cast<size_t>(spec.integer("size", 1, 100'000).value_or(0))),
          next_(link_from(spec, "next")) {
        if (!spec.member("size")) spec.problem("size", "is required");
    }

    bool holds_records() const override { return !pending_.empty(); }

    void finish(RunContext& run) override {
        if (!pending_.empty()) forward(next_, std::exchange(pending_, Batch()), run);
    }

protected:
    void process(Batch batch, RunContext& run) override {
        pending_.append(std::move(batch));
        while (pending_.size() >= size_) {
            Batch full = pending_.sibling();
            full.records.reserve(size_);
            for (size_t i = 0; i < size_; ++i) full.records.push_back(std::move(pending_.records[i]));
            pending_.records.erase(pending_.records.begin(), pending_.records.begin() + static_cast<std::ptrdiff_t>(size_));
            if (pending_.empty()) pending_ = Batch();  // let the arenas of sent pages go
            forward(next_, std::move(full), run);
        }
    }

private:
    size_t size_;
    Link& next_;
    Batch pending_;
};

}  // namespace

void register_rebatch_shape(ShapeRegistry& registry) {
    registry.add("rebatch", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "size", "next"});
        return std::make_unique<RebatchShape>(spec, id);
    });
}

}  // namespace junction::core::flows
