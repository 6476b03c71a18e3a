// script: runs a Lua 5.4 script on each record, for what a map cannot say. The script is
// the body of a function of `record`; what it returns goes on (nil: nothing, several
// values: several records). A record the script fails on, or that runs past its budget,
// fails alone (to a catch path inside a try), as a map failure does. See docs/flows.md.
//   {"id": "lines", "type": "script", "script": ["local out = array()",
//      "for _, l in ipairs(record.line_items) do out[#out + 1] = {sku = l.sku} end",
//      "return {order = record.id, lines = out}"], "next": "..."}
#include <junction/core/flows/lua_script.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

constexpr size_t kMaxScriptBytes = 256 << 10;

class ScriptShape final : public Shape {
public:
    ScriptShape(const Spec& spec, std::string id, std::unique_ptr<LuaScript> script)
        : Shape(std::move(id)), script_(std::move(script)), next_(link_from(spec, "next")) {}

protected:
    void process(Batch batch, RunContext& run) override {
        script_->set_log([this, &run](std::string_view line) { run.log("info", id(), std::string(line)); });
        Batch out = batch.sibling();
        out.records.reserve(batch.size());
        for (const auto& record : batch.records) {
            try {
                script_->run(record, out.records, out.allocator());
            } catch (const ScriptError& e) {
                run.fail(id(), record, e.what());
            }
        }
        script_->set_log(nullptr);
        forward(next_, std::move(out), run);
    }

private:
    std::unique_ptr<LuaScript> script_;
    Link& next_;
};

// "script": the source as one string, or as an array of lines (easier to read in JSON).
std::optional<std::string> script_source(const Spec& spec) {
    const Json* value = spec.member("script");
    std::string source;
    if (value && value->IsString()) {
        source.assign(value->GetString(), value->GetStringLength());
    } else if (value && value->IsArray()) {
        for (const auto& line : value->GetArray()) {
            if (!line.IsString()) {
                spec.problem("script", "must be a string or an array of strings (the lines of the script)");
                return std::nullopt;
            }
            source.append(line.GetString(), line.GetStringLength()).push_back('\n');
        }
    } else {
        spec.problem("script", value ? "must be a string or an array of strings (the lines of the script)"
                                     : "is required: the Lua script to run on each record");
        return std::nullopt;
    }
    if (source.size() > kMaxScriptBytes) {
        spec.problem("script", "is longer than 256 KB");
        return std::nullopt;
    }
    return source;
}

}  // namespace

void register_script_shape(ShapeRegistry& registry) {
    registry.add("script", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "script", "max_instructions", "max_memory_mb", "timeout_ms", "next"});
        ScriptLimits limits;
        if (auto n = spec.integer("max_instructions", 1000, 1'000'000'000)) limits.max_instructions = *n;
        if (auto n = spec.integer("max_memory_mb", 1, 1024)) limits.max_memory = static_cast<size_t>(*n) << 20;
        if (auto n = spec.integer("timeout_ms", 1, 60'000)) limits.timeout = std::chrono::milliseconds(*n);
        auto source = script_source(spec);
        if (!source) return nullptr;
        try {
            return std::make_unique<ScriptShape>(spec, id, std::make_unique<LuaScript>(*source, limits));
        } catch (const ScriptError& e) {
            spec.problem("script", e.what());
            return nullptr;
        }
    });
}

}  // namespace junction::core::flows
