// Running a run: the worker threads take queued runs and execute them from their flow
// version, resuming from the checkpoint when the host stopped in the middle of one.
#include <junction/core/flows/flow_service.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>

namespace junction::core {

void FlowService::work() {
    for (;;) {
        std::string id;
        auto active = std::make_shared<Active>();
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            id = queue_.front();
            queue_.pop_front();
            // Active before its status is read: a cancel now either finds it here or has
            // already marked it cancelled in the store (cancel() holds the same lock).
            active_[id] = active;
        }
        auto r = store_.flows().find_run(id);
        if (!r || !run_is_open(r->status)) {  // cancelled while queued, or gone
            std::lock_guard lock(mutex_);
            active_.erase(id);
            idle_.notify_all();
            continue;
        }
        try {
            execute(std::move(*r), active);
        } catch (const std::exception& e) {
            log_error("flows", "run " + id + " could not be recorded: " + e.what());
        }
    }
}

void FlowService::execute(RunRecord run, const std::shared_ptr<Active>& active) {
    struct Forget {
        FlowService& s;
        std::string id;
        ~Forget() {
            std::lock_guard lock(s.mutex_);
            s.active_.erase(id);
            s.idle_.notify_all();
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
        ctx = std::make_unique<flows::RunContext>(run, flow_name, store_.flows(), runtime_, redactor, active->signals);
        ctx->set_shapes(graph->in_order());
        ctx->set_traffic(traffic_.get(flow_name));
        // A retry starts from the checkpoint of the run it retries (none: from the start).
        if (resuming || !run.retry_of.empty()) ctx->restore();
        ctx->log("info", "", resuming ? "resumed after the host stopped" : "started (" + run.trigger + ")");
        flows::Batch trigger = run.payload_json.empty() ? flows::Batch() : flows::Batch::parse(run.payload_json, "the payload", JsonSize::record);
        if (!resuming) ctx->count_received(trigger.size());
        graph->start().receive(std::move(trigger), *ctx);
        ctx->finish_shapes();
        const bool errors = ctx->uncaught_failures() > 0;
        ctx->log(errors ? "warn" : "info", "", errors ? std::to_string(ctx->uncaught_failures()) + " records failed; see the run's failed records"
                                                      : "completed");
        ctx->commit_end(errors ? "completed_with_errors" : "completed", "");
        log_info("flows", "run " + run.id + " of " + flow_name + ": " + run.status);
    } catch (const std::exception& e) {
        const std::string why = redactor.apply(e.what());
        if ((active->signals.stop || active->signals.drain) && !active->cancelled) {
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

}  // namespace junction::core
