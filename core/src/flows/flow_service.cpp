#include <junction/core/flows/flow_service.hpp>

#include <junction/core/error.hpp>
#include <junction/core/flows/cron_schedule.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/ids.hpp>
#include <junction/core/json_schema.hpp>
#include <junction/core/log.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

namespace junction::core {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

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

flows::Trigger trigger_of(const std::string& document) {
    const auto d = parse_json_text(document, "the flow");
    flows::Trigger t;
    if (auto it = d.FindMember("trigger"); it != d.MemberEnd() && it->value.IsObject()) {
        const auto& v = it->value;
        if (v.HasMember("type") && v["type"].IsString()) t.type = v["type"].GetString();
        if (v.HasMember("cron") && v["cron"].IsString()) t.cron = v["cron"].GetString();
        if (v.HasMember("time_zone") && v["time_zone"].IsString()) t.time_zone = v["time_zone"].GetString();
    }
    return t;
}

int64_t next_fire(const flows::Trigger& t, int64_t after_ms) {
    if (t.type != "schedule") return 0;
    try {
        return flows::CronSchedule::parse(t.cron, t.time_zone).next_after(after_ms).value_or(0);
    } catch (const Error&) {
        return 0;
    }
}

std::string cursors_json(const std::map<std::string, std::string>& cursors) {
    rapidjson::StringBuffer b;
    Writer w(b);
    w.StartObject();
    for (const auto& [shape, cursor] : cursors) field(w, shape.c_str(), cursor);
    w.EndObject();
    return b.GetString();
}

bool is_open(const std::string& status) { return status == "queued" || status == "running"; }

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
    raw(w, "counts", r.counts_json);
    raw(w, "progress", r.checkpoint_json);
    raw(w, "start_cursors", r.start_cursors_json);
    w.EndObject();
    return b.GetString();
}

FlowService::FlowService(Store& store, const SecretBox& secrets, InstanceRuntime& runtime, FlowServiceOptions options)
    : store_(store), secrets_(secrets), runtime_(runtime), options_(options) {}

FlowService::~FlowService() { stop(); }

void FlowService::start() {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
    stopping_ = false;
    // Interrupted runs first, oldest first: they resume from their checkpoints.
    for (const char* status : {"running", "queued"}) {
        RunQuery q;
        q.status = status;
        q.limit = 100'000;
        auto runs = store_.flows().list_runs(q);
        for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
            queue_.push_back(it->id);
            if (it->status == "running") log_info("flows", "run " + it->id + " was interrupted; resuming it");
        }
    }
    for (size_t i = 0; i < std::max<size_t>(1, options_.run_workers); ++i) workers_.emplace_back([this] { work(); });
    scheduler_ = std::thread([this] { schedule_loop(); });
}

void FlowService::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!started_) return;
        stopping_ = true;
        for (auto& [id, a] : active_) a->stop = true;
    }
    wake_.notify_all();
    schedule_wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    if (scheduler_.joinable()) scheduler_.join();
    std::lock_guard lock(mutex_);
    started_ = false;
    queue_.clear();
}

FlowRecord FlowService::load(std::string_view id_or_name) {
    auto f = store_.flows().find_flow(id_or_name);
    if (!f) throw Error(Errc::not_found, "there is no flow '" + std::string(id_or_name) + "' (see: junction flows list)");
    return *f;
}

SavedFlow FlowService::save(std::string_view document_json) {
    flows::BuildContext ctx{store_, runtime_, {}};
    const auto graph = flows::FlowGraph::build(document_json, ctx);
    FlowRecord r;
    SavedFlow saved;
    if (auto existing = store_.flows().find_flow(graph.name()); existing && existing->name == graph.name()) {
        r = *existing;
        r.version += 1;
    } else {
        r.id = random_id("flow_");
        r.name = graph.name();
        r.version = 1;
        r.created_ms = now_ms();
    }
    r.updated_ms = std::max(now_ms(), r.created_ms);
    r.document_json = std::string(document_json);
    r.instances = ctx.instances;
    if (graph.trigger().type == "webhook" && r.webhook_token_sha256.empty()) {
        saved.webhook_token = random_token(24);
        r.webhook_token_sha256 = sha256_hex(saved.webhook_token);
    }
    store_.flows().save_flow(r);
    log_info("flows", "saved flow " + r.name + " version " + std::to_string(r.version));
    schedule_wake_.notify_all();
    saved.flow = show(r.id);
    return saved;
}

std::vector<FlowView> FlowService::list() {
    std::vector<FlowView> out;
    for (auto& r : store_.flows().list_flows()) {
        FlowView v{std::move(r), {}, 0};
        v.trigger = trigger_of(v.record.document_json);
        v.next_run_ms = v.record.enabled ? next_fire(v.trigger, now_ms()) : 0;
        out.push_back(std::move(v));
    }
    return out;
}

FlowView FlowService::show(std::string_view id_or_name) {
    FlowView v{load(id_or_name), {}, 0};
    v.trigger = trigger_of(v.record.document_json);
    v.next_run_ms = v.record.enabled ? next_fire(v.trigger, now_ms()) : 0;
    return v;
}

bool FlowService::has_open_run(const std::string& flow_id) {
    for (const char* status : {"queued", "running"}) {
        RunQuery q;
        q.flow_id = flow_id;
        q.status = status;
        q.limit = 1;
        if (!store_.flows().list_runs(q).empty()) return true;
    }
    return false;
}

void FlowService::remove(std::string_view id_or_name) {
    const FlowRecord f = load(id_or_name);
    if (has_open_run(f.id))
        throw Error(Errc::invalid_argument, "flow " + f.name + " has a run queued or in progress; cancel it first");
    store_.flows().delete_flow(f.id);
    schedule_wake_.notify_all();
    log_info("flows", "deleted flow " + f.name);
}

FlowView FlowService::set_enabled(std::string_view id_or_name, bool enabled) {
    const FlowRecord f = load(id_or_name);
    store_.flows().set_flow_enabled(f.id, enabled);
    schedule_wake_.notify_all();
    return show(f.id);
}

std::string FlowService::rotate_webhook(std::string_view id_or_name) {
    const FlowView f = show(id_or_name);
    if (f.trigger.type != "webhook")
        throw Error(Errc::invalid_argument, "flow " + f.record.name + " is triggered by " + f.trigger.type + ", not a webhook");
    std::string token = random_token(24);
    store_.flows().set_webhook_token(f.record.id, sha256_hex(token));
    return token;
}

RunView FlowService::view(const RunRecord& r) {
    auto f = store_.flows().find_flow(r.flow_id);
    return RunView{r, f ? f->name : std::string()};
}

RunView FlowService::enqueue(RunRecord run, const std::string& flow_name) {
    run.id = random_id("run_");
    run.status = "queued";
    run.started_ms = now_ms();
    store_.flows().insert_run(run);
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(run.id);
    }
    wake_.notify_one();
    log_info("flows", "queued run " + run.id + " of flow " + flow_name + " (" + run.trigger + ")");
    return RunView{run, flow_name};
}

RunView FlowService::start_run(std::string_view flow_id_or_name, std::string_view trigger, std::string_view payload) {
    const FlowRecord f = load(flow_id_or_name);
    if (!payload.empty()) {
        flows::Batch::parse(payload, "the payload");  // refused now, not in the run
    } else {
        flows::BuildContext ctx{store_, runtime_, f.instances};
        if (!flows::FlowGraph::build(f.document_json, ctx).has_source())
            throw Error(Errc::invalid_argument, "flow " + f.name + " reads from no connection: its records come with the "
                                                "run (junction flows run " + f.name + " --payload FILE, or its webhook)");
    }
    RunRecord r;
    r.flow_id = f.id;
    r.flow_version = f.version;
    r.trigger = std::string(trigger);
    r.payload_json = std::string(payload);
    r.start_cursors_json = cursors_json(store_.flows().flow_cursors(f.id));
    return enqueue(std::move(r), f.name);
}

RunView FlowService::webhook(std::string_view flow_id, std::string_view token, std::string_view body) {
    auto f = store_.flows().find_flow(flow_id);
    const Error unknown(Errc::not_found, "there is no webhook at this address");
    if (!f || f->id != flow_id || f->webhook_token_sha256.empty() ||
        !equal_constant_time(sha256_hex(token), f->webhook_token_sha256))
        throw unknown;
    if (!f->enabled) throw Error(Errc::invalid_argument, "flow " + f->name + " is disabled; enable it to accept webhooks");
    if (body.empty()) throw Error(Errc::invalid_argument, "the webhook body must be JSON: a record or an array of records");
    return start_run(f->id, "webhook", body);
}

std::vector<RunView> FlowService::runs(const RunQuery& query) {
    RunQuery q = query;
    if (!q.flow_id.empty()) q.flow_id = load(q.flow_id).id;
    std::vector<RunView> out;
    std::map<std::string, std::string> names;
    for (auto& r : store_.flows().list_runs(q)) {
        auto [it, added] = names.try_emplace(r.flow_id);
        if (added)
            if (auto f = store_.flows().find_flow(r.flow_id)) it->second = f->name;
        out.push_back(RunView{std::move(r), it->second});
    }
    return out;
}

RunView FlowService::run(std::string_view run_id) {
    auto r = store_.flows().find_run(run_id);
    if (!r) throw Error(Errc::not_found, "there is no run '" + std::string(run_id) + "' (see: junction runs list)");
    return view(*r);
}

RunView FlowService::cancel(std::string_view run_id) {
    RunView v = run(run_id);
    {
        std::lock_guard lock(mutex_);
        if (auto it = active_.find(v.record.id); it != active_.end()) {
            it->second->cancelled = true;
            it->second->stop = true;
            return v;  // the run ends itself at its next page
        }
    }
    if (v.record.status != "queued")
        throw Error(Errc::invalid_argument, "run " + v.record.id + " is " + v.record.status + "; only queued or running runs can be cancelled");
    v.record.status = "cancelled";
    v.record.error = "cancelled before it started";
    v.record.ended_ms = now_ms();
    store_.flows().finish_run(v.record, Checkpoint{v.record.checkpoint_json, v.record.counts_json, {}, {}}, {});
    return v;
}

RunView FlowService::retry(std::string_view run_id) {
    const RunView original = run(run_id);
    if (is_open(original.record.status))
        throw Error(Errc::invalid_argument, "run " + original.record.id + " is still " + original.record.status);
    RunRecord r;
    r.flow_id = original.record.flow_id;
    r.flow_version = original.record.flow_version;
    r.trigger = "retry";
    r.retry_of = original.record.id;
    r.payload_json = original.record.payload_json;
    r.start_cursors_json = original.record.start_cursors_json;
    return enqueue(std::move(r), original.flow_name);
}

std::vector<RunLogLine> FlowService::run_log(std::string_view run_id, int64_t after_seq, size_t limit) {
    return store_.flows().run_log(run(run_id).record.id, after_seq, limit);
}

std::vector<FailedRecord> FlowService::failed_records(std::string_view run_id, int64_t after_seq, size_t limit) {
    return store_.flows().failed_records(run(run_id).record.id, after_seq, limit);
}

void FlowService::work() {
    for (;;) {
        std::string id;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            id = queue_.front();
            queue_.pop_front();
        }
        auto r = store_.flows().find_run(id);
        if (!r || !is_open(r->status)) continue;  // cancelled while queued, or gone
        try {
            execute(std::move(*r));
        } catch (const std::exception& e) {
            log_error("flows", "run " + id + " could not be recorded: " + e.what());
        }
    }
}

void FlowService::execute(RunRecord run) {
    auto active = std::make_shared<Active>();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        active_[run.id] = active;
    }
    struct Forget {
        FlowService& s;
        std::string id;
        ~Forget() {
            std::lock_guard lock(s.mutex_);
            s.active_.erase(id);
        }
    } forget{*this, run.id};

    const bool resuming = run.status == "running";
    run.resumed = run.resumed || resuming;
    run.status = "running";
    store_.flows().set_run_status(run.id, "running", "");
    if (resuming) store_.flows().mark_resumed(run.id);
    auto flow = store_.flows().find_flow(run.flow_id);
    const std::string flow_name = flow ? flow->name : run.flow_id;

    Redactor redactor;
    // The graph outlives the context: ending a failed run still reads its shapes.
    std::optional<flows::FlowGraph> graph;
    std::unique_ptr<flows::RunContext> ctx;
    try {
        const auto document = store_.flows().flow_document(run.flow_id, run.flow_version);
        if (!document) throw Error(Errc::not_found, "version " + std::to_string(run.flow_version) + " of the flow is gone");
        flows::BuildContext build{store_, runtime_, {}};
        if (flow && flow->version == run.flow_version) build.instances = flow->instances;
        graph.emplace(flows::FlowGraph::build(*document, build));
        for (const auto& [shape, instance] : build.instances)
            if (auto rec = store_.find_instance(instance)) redactor.add_instance(secrets_, *rec);
        ctx = std::make_unique<flows::RunContext>(run, flow_name, store_.flows(), runtime_, redactor, active->stop);
        ctx->set_shapes(graph->in_order());
        if (resuming) ctx->restore();
        ctx->log("info", "", resuming ? "resumed after the host stopped" : "started (" + run.trigger + ")");
        flows::Batch trigger = run.payload_json.empty() ? flows::Batch() : flows::Batch::parse(run.payload_json, "the payload");
        graph->start().receive(std::move(trigger), *ctx);
        ctx->finish_shapes();
        const bool errors = ctx->uncaught_failures() > 0;
        ctx->log(errors ? "warn" : "info", "", errors ? std::to_string(ctx->uncaught_failures()) + " records failed; see the run's failed records"
                                                      : "completed");
        ctx->commit_end(errors ? "completed_with_errors" : "completed", "");
        log_info("flows", "run " + run.id + " of " + flow_name + ": " + run.status);
    } catch (const std::exception& e) {
        const std::string why = redactor.apply(e.what());
        if (active->stop && !active->cancelled) {
            // The host is stopping: leave the run "running"; start() resumes it.
            if (ctx) ctx->flush_log();
            log_info("flows", "run " + run.id + " paused at its last checkpoint; it resumes at the next start");
            return;
        }
        const std::string status = active->cancelled ? "cancelled" : "failed";
        const std::string error = active->cancelled ? "cancelled by an admin" : why;
        if (ctx) {
            ctx->log(active->cancelled ? "warn" : "error", "", error);
            ctx->commit_end(status, error);
        } else {
            run.status = status;
            run.error = error;
            run.ended_ms = now_ms();
            store_.flows().finish_run(run, Checkpoint{run.checkpoint_json, run.counts_json, {}, {}}, {});
        }
        log_warn("flows", "run " + run.id + " of " + flow_name + " " + status + ": " + error);
    }
}

void FlowService::schedule_loop() {
    struct Planned {
        std::string cron;  // the trigger it was planned for: a saved change plans again
        int64_t at = 0;
    };
    std::map<std::string, Planned> next;  // flow id -> when it fires next
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        const int64_t now = now_ms();
        int64_t earliest = now + 60'000;
        std::map<std::string, Planned> planned;
        try {
            for (const auto& f : store_.flows().list_flows()) {
                const auto t = trigger_of(f.document_json);
                if (!f.enabled || t.type != "schedule") continue;
                const std::string cron = t.cron + " " + t.time_zone;
                auto known = next.find(f.id);
                int64_t at = known != next.end() && known->second.cron == cron ? known->second.at : next_fire(t, now);
                if (at && at <= now) {
                    if (has_open_run(f.id)) {
                        log_warn("flows", "schedule of flow " + f.name + " skipped: its previous run is still going");
                    } else {
                        start_run(f.id, "schedule");
                    }
                    at = next_fire(t, now);
                }
                if (at) {
                    planned[f.id] = {cron, at};
                    earliest = std::min(earliest, at);
                }
            }
        } catch (const std::exception& e) {
            log_error("flows", std::string("scheduler: ") + e.what());
        }
        next = std::move(planned);
        lock.lock();
        schedule_wake_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(10, earliest - now_ms())));
    }
}

}  // namespace junction::core
