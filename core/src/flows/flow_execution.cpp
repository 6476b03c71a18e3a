// Running a run: the worker threads claim runs from the store (queued ones, and runs whose
// host stopped or died in them) and execute them from their flow version, resuming from the
// checkpoint where a host left off.
#include <junction/core/flows/flow_service.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/flows/run_context.hpp>
#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>

namespace junction::core {

std::optional<ClaimedRun> FlowService::claim_next() {
    std::string only;  // safe mode: the next run queued through this host
    {
        std::unique_lock lock(mutex_);
        if (safe_) {
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return std::nullopt;
            only = queue_.front();
            queue_.pop_front();
        }
    }
    try {
        return store_.flows().claim_run(lease(), only);
    } catch (const std::exception& e) {
        log_error("flows", std::string("cannot take a run from the store: ") + e.what());
        return std::nullopt;
    }
}

void FlowService::work() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !draining_; });
            if (stopping_) return;
        }
        auto claim = claim_next();
        if (!claim) {
            std::unique_lock lock(mutex_);
            if (safe_) continue;
            // Nothing to take: wait for a run queued here, or poll for the other hosts'.
            wake_.wait_for(lock, options_.claim_poll, [&] { return stopping_ || queued_hints_ > 0; });
            if (queued_hints_ > 0) --queued_hints_;
            continue;
        }
        const std::string id = claim->run.id;
        auto active = std::make_shared<Active>();
        active->epoch = claim->run.lease_epoch;
        bool give_back = false;
        {
            std::lock_guard lock(mutex_);
            // This host's own run, claimed again because its lease lapsed (a stalled renewal,
            // a clock step): the new claim holds it, the old worker's writes are refused.
            if (auto old = active_.find(id); old != active_.end()) {
                old->second->lost = true;
                old->second->signals.stop = true;
            }
            active_[id] = active;  // from here a cancel or a stop reaches it
            give_back = stopping_ || draining_;  // claimed as the host began to stop
        }
        try {
            if (give_back)
                hand_back({id, active->epoch}, !claim->interrupted);
            else if (take_over(*claim))
                execute(std::move(claim->run), claim->interrupted, active);
        } catch (const std::exception& e) {
            log_error("flows", "run " + id + " could not be recorded: " + e.what());
        }
        std::lock_guard lock(mutex_);
        if (auto it = active_.find(id); it != active_.end() && it->second == active) active_.erase(it);
        idle_.notify_all();
    }
}

void FlowService::execute(RunRecord run, bool resuming, const std::shared_ptr<Active>& active) {
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
        if (ctx) {
            // A failure before a send leaves the page it holds whole: settled, it is checkpointed
            // (decision 0028). A stop or a cancel drops it; no request of it goes out after the run.
            if (!active->signals.stop && !active->lost) {
                try {
                    ctx->settle_held_pages();
                } catch (const std::exception&) {
                    // That page failed too: the run fails at the checkpoint before it.
                }
            }
            ctx->abandon_held_pages();
        }
        const std::string why = redactor.apply(e.what());
        if (active->lost || !still_held({run.id, run.lease_epoch})) {
            // Another host took the run over (this one missed its lease): it is theirs now.
            log_warn("flows", "run " + run.id + " of " + flow_name + " was taken over by another host; this host "
                                  "stopped working on it (" + why + ")");
            return;
        }
        if ((active->signals.stop || active->signals.drain) && !active->cancelled) {
            // The host is stopping or draining: the run stays "running", handed back.
            if (ctx) ctx->flush_log();
            hand_back({run.id, run.lease_epoch});
            log_info("flows", "run " + run.id + " paused at its last checkpoint; it resumes on the next host to "
                                  "take it (this one at its next start)");
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
