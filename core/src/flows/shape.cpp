#include <junction/core/flows/shape.hpp>

#include <junction/core/flows/run_context.hpp>

namespace junction::core::flows {

void register_builtin_shapes(ShapeRegistry& registry);  // generated: shape_list.cpp

void Shape::receive(Batch batch, RunContext& run) {
    run.check_stop();
    run.counts(id_).in += static_cast<int64_t>(batch.size());
    process(std::move(batch), run);
}

Link& Shape::link_from(const Spec& spec, const char* key, bool optional) {
    return link_to(spec.string(key, !optional), spec.at(key));
}

Link& Shape::link_to(std::string target, std::string path) {
    links_.push_back(Link{std::move(target), std::move(path), nullptr});
    return links_.back();
}

void Shape::forward(Link& link, Batch batch, RunContext& run) {
    if (batch.empty() && !(link.shape && link.shape->takes_trigger())) return;
    run.counts(id_).out += static_cast<int64_t>(batch.size());
    if (link.shape) link.shape->receive(std::move(batch), run);
}

std::string ShapeRegistry::names() const {
    std::string out;
    for (const auto& [name, builder] : builders_) out += (out.empty() ? "" : ", ") + name;
    return out;
}

const ShapeRegistry& ShapeRegistry::builtin() {
    static const ShapeRegistry registry = [] {
        ShapeRegistry r;
        register_builtin_shapes(r);
        return r;
    }();
    return registry;
}

}  // namespace junction::core::flows
