// Runs a host stopped or died in. A run handed back at a checkpoint (a clean stop, a drain)
// resumes as before. A crashed one resumes once; if a host dies again before the run
// checkpoints, the run itself is the likely cause (a poison record, a connector that
// crashes), so it is failed and left for an admin to retry instead of taking down host
// after host (issue 13). The count lives in the store, so it spans restarts and hosts.
#include <junction/core/flows/flow_service.hpp>

#include <junction/core/common/ids.hpp>
#include <junction/core/common/log.hpp>

namespace junction::core {

namespace {

constexpr int64_t kCrashesBeforeFailing = 2;

std::string crashed_twice(const std::string& run_id) {
    return "the daemon stopped twice while running this run; it is not resumed automatically "
           "(junction runs retry " + run_id + " to try again)";
}

}  // namespace

bool FlowService::take_over(const ClaimedRun& claim) {
    RunRecord run = claim.run;
    if (claim.cancel_requested) {  // cancelled while no host held it
        run.status = "cancelled";
        run.error = "cancelled by an admin";
        run.ended_ms = now_ms();
        store_.flows().finish_run(run, Checkpoint{run.checkpoint_json, run.counts_json, {}, {}}, {});
        log_warn("flows", "run " + run.id + " cancelled: " + run.error);
        return false;
    }
    if (!claim.interrupted) return true;
    if (claim.crashes >= kCrashesBeforeFailing) {
        fail_crashed_run(run);
        return false;
    }
    log_info("flows", "run " + run.id + (claim.crashes == 0 ? " was paused by a stop" : " was interrupted by a crash") +
                          "; resuming it");
    return true;
}

void FlowService::fail_crashed_run(RunRecord run) {
    const auto flow = store_.flows().find_flow(run.flow_id);
    run.status = "failed";
    run.error = crashed_twice(run.id);
    run.ended_ms = now_ms();
    store_.flows().append_run_log(run.id, {RunLogLine{0, run.ended_ms, "error", "", run.error}});
    // No cursors advance: a retry starts where this run started.
    store_.flows().finish_run(run, Checkpoint{run.checkpoint_json, run.counts_json, {}, {}}, {});
    log_error("flows", "run " + run.id + " of " + (flow ? flow->name : run.flow_id) + " failed: " + run.error);
}

void FlowService::hand_back(const HeldRun& run, bool unstarted) {
    try {
        store_.flows().release_run(options_.host_id, run, unstarted);
    } catch (const std::exception& e) {
        log_warn("flows", "run " + run.run_id + " could not be handed back (" + e.what() +
                              "); it resumes when its lease runs out, counted as a crash");
    }
}

}  // namespace junction::core
