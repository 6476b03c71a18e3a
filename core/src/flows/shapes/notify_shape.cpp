// notify: writes a message to the run log, once per batch (default) or once per record,
// and passes the records on unchanged. {{/pointer}} is a field of the record (per record)
// or of the batch's first record; {{count}} the batch's size; {{run}} and {{flow}} name them.
//   {"id": "tell", "type": "notify", "message": "{{count}} orders synced", "level": "info"}
#include <junction/core/flows/run_context.hpp>
#include <junction/core/flows/shape.hpp>

namespace junction::core::flows {

namespace {

class NotifyShape final : public Shape {
public:
    NotifyShape(const Spec& spec, std::string id)
        : Shape(std::move(id)), message_(spec.string("message", true)), level_(spec.string("level")),
          per_record_(spec.string("per") == "record"), next_(link_from(spec, "next")) {
        if (level_.empty()) level_ = "info";
        if (level_ != "info" && level_ != "warn" && level_ != "error") spec.problem("level", "must be info, warn or error");
        const std::string per = spec.string("per");
        if (!per.empty() && per != "batch" && per != "record") spec.problem("per", "must be batch or record");
        for (size_t at = message_.find("{{"); at != std::string::npos; at = message_.find("{{", at + 2)) {
            const size_t end = message_.find("}}", at);
            if (end == std::string::npos) {
                spec.problem("message", "a {{ is not closed by }}");
                break;
            }
            const std::string name = message_.substr(at + 2, end - at - 2);
            if (name != "count" && name != "run" && name != "flow" && !parse_pointer(name))
                spec.problem("message", "{{" + name + "}} is neither a JSON pointer nor count, run or flow");
        }
    }

protected:
    void process(Batch batch, RunContext& run) override {
        if (per_record_) {
            for (const auto& r : batch.records) run.log(level_, id(), render(&r, batch.size(), run));
        } else if (!batch.empty()) {
            run.log(level_, id(), render(&batch.records.front(), batch.size(), run));
        }
        forward(next_, std::move(batch), run);
    }

private:
    std::string render(const Json* record, size_t count, RunContext& run) const {
        std::string out;
        size_t pos = 0;
        for (size_t at; (at = message_.find("{{", pos)) != std::string::npos;) {
            const size_t end = message_.find("}}", at);
            out += message_.substr(pos, at - pos);
            const std::string name = message_.substr(at + 2, end - at - 2);
            if (name == "count") out += std::to_string(count);
            else if (name == "run") out += run.run().id;
            else if (name == "flow") out += run.flow_name();
            else if (const Json* v = record ? parse_pointer(name)->Get(*record) : nullptr)
                out += v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : to_json(*v);
            pos = end + 2;
        }
        return out + message_.substr(pos);
    }

    std::string message_, level_;
    bool per_record_;
    Link& next_;
};

}  // namespace

void register_notify_shape(ShapeRegistry& registry) {
    registry.add("notify", [](const Spec& spec, const std::string& id, BuildContext&) -> std::unique_ptr<Shape> {
        spec.allow_only({"id", "type", "message", "level", "per", "next"});
        return std::make_unique<NotifyShape>(spec, id);
    });
}

}  // namespace junction::core::flows
