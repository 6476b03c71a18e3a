// A flow document, validated and built into shapes:
//   {"name": "shopify-to-netsuite", "description": "...",
//    "trigger": {"type": "manual"} | {"type": "schedule", "cron": "*/15 * * * *", "time_zone": "Europe/London"}
//               | {"type": "webhook"},
//    "start": "orders",            (optional: the first shape)
//    "shapes": [{"id": "orders", "type": "connection", ...}, ...]}
// Building is validating: saving a flow builds it once to find every problem, and each
// run builds it again from the version it runs.
#pragma once

#include <junction/core/flows/shape.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core::flows {

struct Trigger {
    std::string type;  // "manual" | "schedule" | "webhook"
    std::string cron;
    std::string time_zone = "UTC";

    // Schedule triggers: the next firing after `after_ms`; 0 for other triggers.
    int64_t next_fire(int64_t after_ms) const;
};

// The trigger of a stored (already validated) document, without building the flow.
Trigger read_trigger(std::string_view document_json);

class FlowGraph {
public:
    // Throws Error(invalid_argument) listing every problem with its JSON path.
    static FlowGraph build(std::string_view document_json, BuildContext& ctx,
                           const ShapeRegistry& registry = ShapeRegistry::builtin());

    const std::string& name() const { return name_; }
    const Trigger& trigger() const { return trigger_; }
    Shape& start() const { return *start_; }
    // Every shape, each after all the shapes that send to it (the order of finish()).
    const std::vector<Shape*>& in_order() const { return order_; }
    // Whether a run reads records itself; without a source they come with the run.
    bool has_source() const {
        for (const auto& s : shapes_)
            if (s->is_source()) return true;
        return false;
    }

private:
    std::string name_;
    Trigger trigger_;
    std::vector<std::unique_ptr<Shape>> shapes_;
    Shape* start_ = nullptr;
    std::vector<Shape*> order_;
};

}  // namespace junction::core::flows
