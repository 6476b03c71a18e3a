// route: conditional paths. Each record takes the first path whose condition matches
// ("mode": "first", the default) or every path that matches ("mode": "all"); records no
// path takes go to "otherwise" when given, and are dropped when not.
//   {"id": "by-country", "type": "route", "paths": [{"when": {...}, "next": "uk"}], "otherwise": "rest"}
#include <junction/core/flows/condition.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

class RouteShape final : public Shape {
public:
    RouteShape(const Spec& spec, std::string id) : Shape(std::move(id)) {
        const std::string mode = spec.string("mode");
        if (!mode.empty() && mode != "first" && mode != "all") spec.problem("mode", "must be first or all");
        all_ = mode == "all";
        const auto paths = spec.array("paths", true);
        if (paths.empty() && spec.member("paths")) spec.problem("paths", "needs at least one path");
        for (const auto& p : paths) {
            p.allow_only({"when", "next"});
            auto when = p.child("when", true);
            auto condition = when ? Condition::parse(*when) : nullptr;
            Link& link = link_from(p, "next", false);
            if (condition) paths_.push_back({std::move(condition), &link});
        }
        if (spec.member("otherwise")) otherwise_ = &link_from(spec, "otherwise");
    }

protected:
    void process(Batch batch, RunContext& run) override {
        std::vector<Batch> out;
        for (size_t i = 0; i <= paths_.size(); ++i) out.push_back(all_ ? Batch() : batch.sibling());
        for (auto& record : batch.records) {
            bool taken = false;
            for (size_t i = 0; i < paths_.size() && !(taken && !all_); ++i) {
                if (!paths_[i].when->matches(record)) continue;
                if (all_) out[i].records.emplace_back(record, out[i].allocator());
                else out[i].records.push_back(std::move(record));
                taken = true;
            }
            if (!taken && otherwise_) {
                if (all_) out.back().records.emplace_back(record, out.back().allocator());
                else out.back().records.push_back(std::move(record));
            }
        }
        for (size_t i = 0; i < paths_.size(); ++i) forward(*paths_[i].next, std::move(out[i]), run);
        if (otherwise_) forward(*otherwise_, std::move(out.back()), run);
    }

private:
    struct Path {
        std::unique_ptr<Condition> when;
        Link* next;
    };
    bool all_ = false;
    std::vector<Path> paths_;
    Link* otherwise_ = nullptr;
};

}  // namespace

void register_route_shape(ShapeRegistry& registry) {
    registry.add("route", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "mode", "paths", "otherwise"});
        return std::make_unique<RouteShape>(spec, id);
    });
}

}  // namespace junction::core::flows
