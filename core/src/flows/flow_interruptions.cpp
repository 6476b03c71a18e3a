// Runs found "running" when the flow service starts: a clean stop paused them, or the
// daemon died under them. A paused run resumes as before. A crashed one resumes once; if
// the daemon dies again before the run checkpoints, the run itself is the likely cause
// (a poison record, a connector that crashes), so it is failed and left for an admin to
// retry instead of taking the daemon down at every start (issue 13).
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

void FlowService::queue_interrupted_runs() {
    // Interrupted runs first, oldest first: they resume from their checkpoints.
    for (const char* status : {"running", "queued"}) {
        RunQuery q;
        q.status = status;
        q.limit = 100'000;
        auto runs = store_.flows().list_runs(q);
        for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
            if (it->status == "running") {
                // Counted in the store before the run gets a chance to crash us again.
                const int64_t crashes = store_.flows().count_interruption(it->id);
                if (crashes >= kCrashesBeforeFailing) {
                    fail_crashed_run(*it);
                    continue;
                }
                log_info("flows", "run " + it->id + (crashes == 0 ? " was paused by a stop" : " was interrupted by a crash") +
                                      "; resuming it");
            }
            queue_.push_back(it->id);
        }
    }
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

void FlowService::mark_paused(const std::vector<std::string>& run_ids) {
    for (const auto& id : run_ids) {
        try {
            store_.flows().mark_paused(id);
        } catch (const std::exception& e) {
            log_warn("flows", "run " + id + " could not be marked as paused (" + e.what() +
                                  "); the next start counts this stop as a crash");
        }
    }
}

}  // namespace junction::core
