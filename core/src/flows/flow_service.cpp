#include <junction/core/flows/flow_service.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/json_schema.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/common/thread_name.hpp>

#include <junction/json/utf8_writer.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

namespace junction::core {

namespace {

std::string cursors_json(const std::map<std::string, std::string>& cursors) {
    rapidjson::StringBuffer b;
    json::Utf8Writer w(b);
    w.StartObject();
    for (const auto& [shape, cursor] : cursors) {
        w.Key(shape.c_str());
        w.String(cursor.c_str());
    }
    w.EndObject();
    return b.GetString();
}

}  // namespace

FlowService::FlowService(Store& store, const SecretBox& secrets, InstanceRuntime& runtime, FlowServiceOptions options)
    : store_(store), secrets_(secrets), runtime_(runtime), options_(options),
      scheduler_(store.flows(), [this](const FlowRecord& f, int64_t tick) { fire_schedule(f, tick); }),
      pruner_(store.flows(), options.retention, options.retention_interval) {}

void FlowService::fire_schedule(const FlowRecord& f, int64_t tick_ms) {
    RunRecord run = new_run(f, "schedule", {});
    switch (store_.flows().insert_scheduled_run(run, tick_ms, cursors_json)) {
        case ScheduledRun::already_fired: return;  // another host took this tick
        case ScheduledRun::previous_still_open:
            log_warn("flows", "schedule of flow " + f.name + " skipped: its previous run is still going");
            return;
        case ScheduledRun::inserted: queued(run, f.name); return;
    }
}

FlowService::~FlowService() { stop(); }

RunLease FlowService::lease() const {
    RunLease lease;
    lease.host = options_.host_id;
    lease.duration_ms = options_.lease.count();
    return lease;
}

void FlowService::start(StartMode mode) {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
    stopping_ = false;
    draining_ = false;
    safe_ = mode == StartMode::safe;
    if (safe_)
        log_warn("flows", "safe mode: interrupted and queued runs are left as they are and no schedule fires");
    else
        store_.flows().expire_leases(options_.host_id);  // its previous process is gone
    for (size_t i = 0; i < std::max<size_t>(1, options_.run_workers); ++i)
        workers_.emplace_back([this, i] {
            name_this_thread("jn-run-" + std::to_string(i));
            work();
        });
    lease_keeper_ = std::thread([this] {
        name_this_thread("jn-leases");
        keep_leases();
    });
    if (!safe_) {
        scheduler_.start();
        pruner_.start();  // safe mode deletes nothing an operator may want to look at
    }
}

size_t FlowService::drain(std::chrono::milliseconds grace) {
    std::unique_lock lock(mutex_);
    draining_ = true;
    const size_t in_hand = active_.size();
    for (auto& [id, a] : active_) a->signals.drain = true;
    wake_.notify_all();
    if (!active_.empty()) {
        log_info("flows", "draining: waiting up to " + std::to_string(grace.count()) + " ms for " +
                              std::to_string(active_.size()) + " runs to reach a checkpoint");
        if (!idle_.wait_for(lock, grace, [&] { return active_.empty(); }))
            for (auto& [id, a] : active_) a->signals.stop = true;  // handed back at their last checkpoint
        idle_.wait(lock, [&] { return active_.empty(); });
    }
    log_info("flows", "drained: this host takes no more runs; " + std::to_string(in_hand) +
                          " runs were handed back to the other hosts");
    return in_hand;
}

void FlowService::stop(std::chrono::milliseconds grace) {
    {
        std::unique_lock lock(mutex_);
        if (!started_) return;
        stopping_ = true;
        for (auto& [id, a] : active_) a->signals.drain = true;
        wake_.notify_all();
        if (!active_.empty() && grace.count() > 0) {
            log_info("flows", "waiting up to " + std::to_string(grace.count()) + " ms for " +
                                  std::to_string(active_.size()) + " runs to finish their pages");
            if (!idle_.wait_for(lock, grace, [&] { return active_.empty(); }))
                log_warn("flows", std::to_string(active_.size()) +
                                      " runs did not reach a page boundary in time; they resume from "
                                      "their last checkpoint");
        }
        for (auto& [id, a] : active_) a->signals.stop = true;
    }
    scheduler_.stop();
    pruner_.stop();
    for (auto& t : workers_) t.join();  // each run still in hand was handed back by its worker
    workers_.clear();
    keeper_wake_.notify_all();
    if (lease_keeper_.joinable()) lease_keeper_.join();
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
    scheduler_.flows_changed();
    saved.flow = show(r.id);
    return saved;
}

std::vector<FlowView> FlowService::list(std::string_view after_name, size_t limit) {
    std::vector<FlowView> out;
    for (auto& r : store_.flows().list_flows(after_name, limit)) {
        FlowView v{std::move(r), {}, 0};
        v.trigger = flows::read_trigger(v.record.document_json);
        v.next_run_ms = v.record.enabled ? v.trigger.next_fire(now_ms()) : 0;
        out.push_back(std::move(v));
    }
    return out;
}

FlowView FlowService::show(std::string_view id_or_name) {
    FlowView v{load(id_or_name), {}, 0};
    v.trigger = flows::read_trigger(v.record.document_json);
    v.next_run_ms = v.record.enabled ? v.trigger.next_fire(now_ms()) : 0;
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
    webhook_limiter_.forget(f.id);
    scheduler_.flows_changed();
    log_info("flows", "deleted flow " + f.name);
}

FlowView FlowService::set_enabled(std::string_view id_or_name, bool enabled) {
    const FlowRecord f = load(id_or_name);
    store_.flows().set_flow_enabled(f.id, enabled);
    scheduler_.flows_changed();
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
    return queued(run, flow_name);
}

RunView FlowService::queued(const RunRecord& run, const std::string& flow_name) {
    {
        std::lock_guard lock(mutex_);
        if (safe_) queue_.push_back(run.id);
        ++queued_hints_;
    }
    wake_.notify_one();  // a worker of this host looks at once; the others' at their next poll
    log_info("flows", "queued run " + run.id + " of flow " + flow_name + " (" + run.trigger + ")");
    return RunView{run, flow_name};
}

RunView FlowService::start_run(std::string_view flow_id_or_name, std::string_view trigger, std::string_view payload) {
    const FlowRecord f = load(flow_id_or_name);
    RunRecord r = new_run(f, trigger, payload);
    store_.flows().insert_run(r);
    return queued(r, f.name);
}

RunRecord FlowService::new_run(const FlowRecord& f, std::string_view trigger, std::string_view payload) {
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
    r.id = random_id("run_");
    r.status = "queued";
    r.started_ms = now_ms();
    return r;
}

RunView FlowService::webhook(std::string_view flow_id, std::string_view token, std::string_view body) {
    auto f = store_.flows().find_flow(flow_id);
    const Error unknown(Errc::not_found, "there is no webhook at this address");
    if (!f || f->id != flow_id || f->webhook_token_sha256.empty() ||
        !equal_constant_time(sha256_hex(token), f->webhook_token_sha256))
        throw unknown;
    if (!f->enabled) throw Error(Errc::invalid_argument, "flow " + f->name + " is disabled; enable it to accept webhooks");
    const auto limit = flows::rate_limit_of(f->document_json, options_.webhook_rate_limit);
    if (const int64_t wait = webhook_limiter_.take(f->id, limit, now_ms()))
        throw RateLimited("flow " + f->name + " accepts " + std::to_string(limit.per_minute) +
                              " webhook calls a minute (bursts of " + std::to_string(limit.burst) +
                              "); this call was refused and not stored. Send it again in " + std::to_string(wait) +
                              " s (Retry-After), or raise the limit: the trigger's rate_limit, or junctiond's "
                              "webhook-rate-per-minute and webhook-rate-burst",
                          wait);
    if (body.empty()) throw Error(Errc::invalid_argument, "the webhook body must be JSON: a record or an array of records");
    flows::Batch::parse(body, "the webhook body", JsonSize::webhook);  // its own size cap
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
    const std::string id = run(run_id).record.id;
    bool in_hand = false;
    {
        std::lock_guard lock(mutex_);
        if (auto it = active_.find(id); it != active_.end()) {
            in_hand = true;
            it->second->cancelled = true;
            it->second->signals.stop = true;  // the run ends itself at its next page
        }
    }
    // In the store as well: if this host loses the run (or hands it back) before it ends,
    // the host that takes it cancels it.
    if (store_.flows().request_cancel(id, now_ms()) == CancelOutcome::not_open && !in_hand) {
        const RunView v = run(id);
        throw Error(Errc::invalid_argument,
                    "run " + v.record.id + " is " + v.record.status + "; only queued or running runs can be cancelled");
    }
    // Held by another host: it stops the run at its next lease renewal (a few seconds).
    return run(id);
}

RunView FlowService::retry(std::string_view run_id, bool from_start) {
    const RunView original = run(run_id);
    if (run_is_open(original.record.status))
        throw Error(Errc::invalid_argument, "run " + original.record.id + " is still " + original.record.status);
    RunRecord r;
    r.flow_id = original.record.flow_id;
    r.flow_version = original.record.flow_version;
    r.trigger = "retry";
    r.retry_of = original.record.id;
    r.payload_json = original.record.payload_json;
    r.start_cursors_json = original.record.start_cursors_json;
    if (!from_start) r.checkpoint_json = flows::progress_only(original.record.checkpoint_json);
    return enqueue(std::move(r), original.flow_name);
}

std::vector<RunLogLine> FlowService::run_log(std::string_view run_id, int64_t after_seq, size_t limit) {
    return store_.flows().run_log(run(run_id).record.id, after_seq, limit);
}

std::vector<FailedRecord> FlowService::failed_records(std::string_view run_id, int64_t after_seq, size_t limit) {
    return store_.flows().failed_records(run(run_id).record.id, after_seq, limit);
}

}  // namespace junction::core
