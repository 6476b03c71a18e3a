// branch: the same records through several paths, one after the other (each path gets
// its own copy, so a map on one path does not change what the next one sees).
//   {"id": "fan-out", "type": "branch", "paths": ["to-netsuite", "to-archive"]}
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

class BranchShape final : public Shape {
public:
    BranchShape(const Spec& spec, std::string id) : Shape(std::move(id)) {
        const Json* paths = spec.member("paths");
        if (!paths || !paths->IsArray() || paths->Empty()) {
            spec.problem("paths", "must list the shapes each path starts at");
            return;
        }
        for (rapidjson::SizeType i = 0; i < paths->Size(); ++i) {
            const std::string at = spec.at("paths") + "/" + std::to_string(i);
            if (!(*paths)[i].IsString()) {
                spec.problems().push_back("at " + at + ": must be a shape id");
                continue;
            }
            paths_.push_back(&link_to((*paths)[i].GetString(), at));
        }
    }

    bool takes_trigger() const override { return true; }

protected:
    void process(Batch batch, RunContext& run) override {
        for (size_t i = 0; i < paths_.size(); ++i) {
            const bool last = i + 1 == paths_.size();
            forward(*paths_[i], last ? std::move(batch) : batch.copy(), run);
        }
    }

private:
    std::vector<Link*> paths_;
};

}  // namespace

void register_branch_shape(ShapeRegistry& registry) {
    registry.add("branch", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "paths"});
        return std::make_unique<BranchShape>(spec, id);
    });
}

}  // namespace junction::core::flows
