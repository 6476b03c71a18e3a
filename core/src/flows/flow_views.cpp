// How flows and runs read in the admin API: JSON without any secret (a webhook's secret
// is shown once, when made, never in a view).
#include <junction/core/flows/flow_service.hpp>

#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace junction::core {

namespace {

using Writer = json::Utf8Writer;

void field(Writer& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}
void field(Writer& w, const char* key, int64_t value) {
    w.Key(key);
    w.Int64(value);
}
void raw(Writer& w, const char* key, const std::string& json) {
    w.Key(key);
    w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
}

}  // namespace

std::string FlowView::to_json() const {
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    field(w, "id", record.id);
    field(w, "name", record.name);
    field(w, "version", record.version);
    w.Key("enabled");
    w.Bool(record.enabled);
    w.Key("trigger");
    w.StartObject();
    field(w, "type", trigger.type);
    if (trigger.type == "schedule") {
        field(w, "cron", trigger.cron);
        field(w, "time_zone", trigger.time_zone);
        field(w, "next_run_ms", next_run_ms);
    }
    if (trigger.type == "webhook") {
        // The secret itself is never shown again; only the path it goes into.
        field(w, "webhook_path", "/hooks/" + record.id + "/<secret>");
    }
    w.EndObject();
    w.Key("instances");
    w.StartObject();
    for (const auto& [shape, instance] : record.instances) field(w, shape.c_str(), instance);
    w.EndObject();
    field(w, "created_ms", record.created_ms);
    field(w, "updated_ms", record.updated_ms);
    raw(w, "document", record.document_json);
    w.EndObject();
    return b.GetString();
}

std::string RunView::to_json() const {
    const auto& r = record;
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    field(w, "id", r.id);
    field(w, "flow", r.flow_id);
    field(w, "flow_name", flow_name);
    field(w, "flow_version", r.flow_version);
    field(w, "trigger", r.trigger);
    field(w, "status", r.status);
    field(w, "started_ms", r.started_ms);
    field(w, "ended_ms", r.ended_ms);
    field(w, "error", r.error);
    field(w, "retry_of", r.retry_of);
    w.Key("resumed");
    w.Bool(r.resumed);
    field(w, "host", r.host);
    raw(w, "counts", r.counts_json);
    raw(w, "progress", r.checkpoint_json);
    raw(w, "start_cursors", r.start_cursors_json);
    w.EndObject();
    return b.GetString();
}

}  // namespace junction::core
