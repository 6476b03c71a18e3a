// map: builds each record anew from target fields (see field_mapping.hpp); with
// "keep_unmapped": true the fields are set on a copy of the record instead. A record that
// cannot be mapped fails (to a catch path when inside a try), the others go on.
//   {"id": "to-sales-order", "type": "map", "fields": [{"target": "/externalId", "source": "/id"}], "next": "..."}
#include <junction/core/flows/field_mapping.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

class MapShape final : public Shape {
public:
    MapShape(const Spec& spec, std::string id)
        : Shape(std::move(id)), keep_(spec.boolean("keep_unmapped", false)), next_(link_from(spec, "next")) {
        const auto fields = spec.array("fields", true);
        if (fields.empty() && spec.member("fields")) spec.problem("fields", "needs at least one field");
        for (const auto& f : fields)
            if (auto m = FieldMapping::parse(f)) fields_.push_back(std::move(*m));
    }

protected:
    void process(Batch batch, RunContext& run) override {
        Batch out = batch.sibling();
        out.records.reserve(batch.size());
        for (auto& record : batch.records) {
            Json mapped(rapidjson::kObjectType);
            if (keep_ && record.IsObject()) mapped.CopyFrom(record, out.allocator());
            try {
                for (const auto& f : fields_) f.apply(record, mapped, out.allocator());
                out.records.push_back(std::move(mapped));
            } catch (const MapError& e) {
                run.fail(id(), record, e.what());
            }
        }
        forward(next_, std::move(out), run);
    }

private:
    bool keep_;
    std::vector<FieldMapping> fields_;
    Link& next_;
};

}  // namespace

void register_map_shape(ShapeRegistry& registry) {
    registry.add("map", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "fields", "keep_unmapped", "next"});
        return std::make_unique<MapShape>(spec, id);
    });
}

}  // namespace junction::core::flows
